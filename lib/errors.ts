/**
 * The one error type users see: a message naming the file, key and value at
 * fault. The command-line entry points print it on one line and exit with
 * status 2; any other exception is a bug and keeps its stack trace.
 *
 * @module
 */

/** An error caused by the user's input (flags, config, corpus files). */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}
