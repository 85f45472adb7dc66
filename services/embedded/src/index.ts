// `@lifeline/embedded`: what the test server (@lifeline/testing) shares with the embedded main; main.ts starts the server.
export { loadDemoDefinitions } from './demo';
