/** The driver's version, reported by GetPluginInfo and the API. Kept in step with package.json. */
export const VERSION = '0.1.0';
