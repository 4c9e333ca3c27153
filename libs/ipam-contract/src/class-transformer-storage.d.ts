// class-transformer ships the storage's types apart from its CommonJS module
declare module 'class-transformer/cjs/storage.js' {
  export { defaultMetadataStorage } from 'class-transformer/types/storage.js';
}
