// The runtime's errors, by kind, so that callers (the CLI, the builder, a shim) tell them apart by
// class, never by message text. Each keeps what it wraps as `cause`.
export class RuntimeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** No container with that ID under the state root (or it vanished while we waited for its lock). */
export class ContainerNotFoundError extends RuntimeError {
  constructor(readonly id: string, options?: ErrorOptions) {
    super('container does not exist', options);
  }
}

export class ContainerExistsError extends RuntimeError {
  constructor(readonly id: string, options?: ErrorOptions) {
    super('container with given ID already exists', options);
  }
}

/** An operation that the container's status does not allow (see TRANSITIONS in state/status.ts). */
export class InvalidStatusError extends RuntimeError {
  constructor(readonly operation: string, readonly status: string, message: string) {
    super(message);
  }
}
