// The commands the server answers through workspace/executeCommand (contract: editors bind them).
export const Commands = {
  startApp: 'subsecond.startApp',
  restartApp: 'subsecond.restartApp',
  stopApp: 'subsecond.stopApp',
  patch: 'subsecond.patch',
  status: 'subsecond.status',
  /** The `subsecond-lsp doctor` checks: `{ ok, message, checks }` (no app or session needed). */
  doctor: 'subsecond.doctor',
} as const;

export const allCommands: string[] = Object.values(Commands);
