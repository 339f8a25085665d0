/** The compiled Ajv validators of the two file forms and of one camera (messages: messages.ts). */
import { Ajv, type ValidateFunction } from 'ajv';
import {
  type CameraConfig,
  CameraConfigSchema,
  type CamerasFile,
  CamerasFileSchema,
  type Options,
  OptionsSchema,
} from './schema.js';

// verbose: the messages (messages.ts) need the values, ranges and unions.
const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
export const validateOptions: ValidateFunction<Options> = ajv.compile<Options>(OptionsSchema);
export const validateCamerasFile: ValidateFunction<CamerasFile> = ajv.compile<CamerasFile>(CamerasFileSchema);
export const validateCameraSchema: ValidateFunction<CameraConfig> = ajv.compile<CameraConfig>(CameraConfigSchema);
