"""Executes a notebook headless, as `jupyter nbconvert --execute` does.

Deno's Jupyter kernel can publish a cell's last output just after it has
announced that it is idle; nbclient stops listening at idle and drops such
an output. This executor keeps listening for `GRACE` seconds after idle and
files whatever the cell still publishes under that cell.

    python3 execute.py NOTEBOOK OUT [TIMEOUT_S]
"""
import sys
import time
from pathlib import Path
from queue import Empty

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionComplete

GRACE = 0.5  # seconds of silence after idle before a cell counts as done


class LateOutputClient(NotebookClient):
    late = 0

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        while True:
            msg = await self.kc.iopub_channel.get_msg(timeout=None)
            if msg["parent_header"].get("msg_id") != parent_msg_id:
                continue
            try:
                self.process_message(msg, cell, cell_index)
            except CellExecutionComplete:
                break
        while True:
            try:
                msg = await self.kc.iopub_channel.get_msg(timeout=GRACE)
            except Empty:
                return
            if msg["parent_header"].get("msg_id") == parent_msg_id:
                self.late += 1
                try:
                    self.process_message(msg, cell, cell_index)
                except CellExecutionComplete:
                    pass


def main():
    source, out = sys.argv[1], sys.argv[2]
    timeout = int(sys.argv[3]) if len(sys.argv) > 3 else 1800
    nb = nbformat.read(source, as_version=4)
    client = LateOutputClient(
        nb,
        timeout=timeout,
        kernel_name=nb.metadata.kernelspec.name,
        resources={"metadata": {"path": str(Path(source).parent)}},
    )
    start = time.monotonic()
    client.execute()
    nbformat.write(nb, out)
    print(
        f"{source}: executed {sum(c.cell_type == 'code' for c in nb.cells)} cells in "
        f"{time.monotonic() - start:.1f} s ({client.late} outputs published after idle)"
    )


main()
