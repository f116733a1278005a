/**
 * Resolves with the first SIGTERM or SIGINT and stops listening for either: how a long-running
 * command (a service, the scheduler, `mixstack dev`) learns that it should stop.
 */
export function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const signals: NodeJS.Signals[] = ["SIGTERM", "SIGINT"];
    const onSignal = (signal: NodeJS.Signals) => {
      for (const other of signals) process.off(other, onSignal);
      resolve(signal);
    };
    for (const signal of signals) process.on(signal, onSignal);
  });
}
