import { contextBridge, ipcRenderer } from 'electron';
import { createNyaBridge } from './preload-bridge';

// The sandboxed preload: one bridge object, nothing else of Electron or Node reaches the page.
contextBridge.exposeInMainWorld('nya', createNyaBridge(ipcRenderer));
