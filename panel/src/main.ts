/** Entry point: theme, then the app element (index.html holds `<camstack-app>`). */
import './global.css';
import { adoptHomeAssistantTheme } from './theme.js';
import './components/app.js';

adoptHomeAssistantTheme();
