// The commands the server answers through workspace/executeCommand (contract: editors bind them).
export const Commands = {
  startApp: 'subsecond.startApp',
  restartApp: 'subsecond.restartApp',
  stopApp: 'subsecond.stopApp',
  patch: 'subsecond.patch',
  status: 'subsecond.status',
} as const;

export const allCommands: string[] = Object.values(Commands);
