// Entry: the Tauri backend, the app and its styles.
import { mount } from 'svelte';

import App from './App.svelte';
import './app.css';
import { setBackend } from './lib/backend';
import { tauriBackend } from './lib/backend/tauri';

setBackend(tauriBackend);
const target = document.getElementById('app');
if (target) mount(App, { target });
