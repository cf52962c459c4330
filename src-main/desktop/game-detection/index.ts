export { GameDetector, readTextFile, type Detection, type GameDetectorOptions, type ReadText, type SignalProbe } from './game-detector';
export { STEAM_REG_KEY, appNameFromManifest, libraryFolders, parseRegQueryValue, runningAppIdFromRegistryVdf } from './steam';
export { parseVdf, vdfGet, type VdfObject } from './vdf';
export {
  NOTIFICATION_STATE_COMMAND,
  notificationStateSignal,
  parseNotificationState,
  type NotificationState,
} from './windows-notification-state';
export { parseActiveWindow, parseWindowState, type WindowState } from './x11-fullscreen';
