export { GameDetector, readTextFile } from './game-detector';
export { appNameFromManifest, libraryFolders, parseRegQueryValue, runningAppIdFromRegistryVdf } from './steam';
export { parseVdf } from './vdf';
export { notificationStateSignal, parseNotificationState } from './windows-notification-state';
export { parseActiveWindow, parseWindowState } from './x11-fullscreen';
