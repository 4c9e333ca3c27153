import { createApp } from 'vue';
import App from './App.vue';
import { whoami } from './api';
import { startLive } from './live';
import './style.css';

void whoami();
startLive();
createApp(App).mount('#app');
