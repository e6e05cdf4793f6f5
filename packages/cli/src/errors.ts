// Errors of the zrpc command and of app discovery. The command maps them to exit codes: usage and
// configuration mistakes exit 2, failures while loading or running code exit 1.

/**
 * A mistake on the command line (unknown option, missing argument, bad value). The command prints
 * the message and exits with status 2.
 */
export class UsageError extends Error {
  /** @param message - what is wrong, e.g. `unknown option --tiemout` */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * A configuration file that cannot be used: not found, ambiguous, not an object, an unknown key,
 * a value of the wrong type, an app folder or package that does not exist. The command exits with
 * status 2. `file` is the configuration file, when there is one.
 */
export class ConfigError extends Error {
  /** The configuration file concerned, if any (absolute path). */
  readonly file: string | undefined;

  /**
   * @param message - what is wrong
   * @param file - the configuration file (absolute path), if any
   * @param options - standard `ErrorOptions` (`cause`)
   */
  constructor(message: string, file?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConfigError";
    this.file = file;
  }
}

/**
 * A module could not be loaded: the configuration file, a middleware module or an app's `rpcs`
 * module threw while it was imported (or has a syntax error). The message names the module;
 * `cause` is the error it threw. The command exits with status 1.
 */
export class ModuleLoadError extends Error {
  /** The module's path (absolute). */
  readonly module: string;

  /**
   * @param what - what the module is, e.g. `rpcs module of app ./tickets`
   * @param module - its absolute path
   * @param shownPath - the path as shown to the user
   * @param cause - what it threw
   */
  constructor(what: string, module: string, shownPath: string, cause: unknown) {
    super(`${what} ${shownPath} failed to load: ${describeError(cause)}`, { cause });
    this.name = "ModuleLoadError";
    this.module = module;
  }
}

/**
 * Two modules registered a method under the same name. Method names are unique across all apps
 * of a server (there is one namespace on the wire); the message names the method and both
 * modules. The command exits with status 1.
 */
export class DuplicateMethodError extends Error {
  /** The method name registered twice. */
  readonly methodName: string;
  /** The module that registered it first, as shown to the user. */
  readonly firstModule: string;
  /** The module that tried to register it again, as shown to the user. */
  readonly secondModule: string;

  /**
   * @param methodName - the method name
   * @param firstModule - the module that registered it first
   * @param secondModule - the module that registered it again
   * @param cause - the server's `RegistrationError`
   */
  constructor(methodName: string, firstModule: string, secondModule: string, cause?: unknown) {
    const where =
      firstModule === secondModule
        ? `twice by ${firstModule}`
        : `by ${firstModule} and again by ${secondModule}`;
    super(`duplicate method name "${methodName}": registered ${where}; method names must be unique across all apps`, { cause });
    this.name = "DuplicateMethodError";
    this.methodName = methodName;
    this.firstModule = firstModule;
    this.secondModule = secondModule;
  }
}

/** `name: message` of an error, or the stack when it has one (so the user sees where it was thrown). */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const stack = error.stack;
    const head = `${error.name}: ${error.message}`;
    if (typeof stack === "string" && stack.includes("\n    at ")) {
      // V8 stacks start with "name: message"; keep ours in case the name was changed after creation.
      return `${head}\n${stack.slice(stack.indexOf("\n    at ") + 1)}`;
    }
    return head;
  }
  return String(error);
}
