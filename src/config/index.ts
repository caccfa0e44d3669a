export * from './types.js';
export { loadConfig, parseConfig, findAgent, type LoadOptions } from './load.js';
export { parseIni, configError, type IniFile } from './ini.js';
