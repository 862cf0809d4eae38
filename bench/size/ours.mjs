// A page's import of this SDK: the npm package built by scripts/build.sh (pkg/): its
// index.js (already one minified module) and the .wasm it fetches.
export { default, PhoneOperator, Session, ResultCode } from '../../pkg/index.js';
