/**
 * Material Design Icons as inline SVG paths (@mdi/js): only the icons imported here end up in the
 * bundle. `icon(path)` renders one; give the surrounding button an aria-label.
 */
import { html, type TemplateResult } from 'lit';

export {
  mdiAlertCircleOutline,
  mdiAlertOutline,
  mdiCamera,
  mdiCameraPlus,
  mdiCctv,
  mdiCheckCircleOutline,
  mdiChevronLeft,
  mdiChevronRight,
  mdiClose,
  mdiCog,
  mdiContentSave,
  mdiDelete,
  mdiDownload,
  mdiEye,
  mdiFilmstrip,
  mdiFullscreen,
  mdiFullscreenExit,
  mdiHarddisk,
  mdiLanConnect,
  mdiLock,
  mdiLockOpenVariant,
  mdiMenu,
  mdiPause,
  mdiPencil,
  mdiPictureInPictureBottomRight,
  mdiPlay,
  mdiRecord,
  mdiRefresh,
  mdiRestart,
  mdiTimerSandComplete,
  mdiVideo,
  mdiViewGrid,
  mdiVolumeHigh,
  mdiVolumeOff,
} from '@mdi/js';

export function icon(path: string, label?: string): TemplateResult {
  return html`<svg
    class="icon"
    viewBox="0 0 24 24"
    width="24"
    height="24"
    role=${label ? 'img' : 'presentation'}
    aria-hidden=${label ? 'false' : 'true'}
    aria-label=${label ?? ''}
  ><path fill="currentColor" d=${path}></path></svg>`;
}
