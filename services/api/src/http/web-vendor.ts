import { dirname, join } from 'node:path';
import express from 'express';

/** Where the web UI finds what it does not ship itself: bpmn-js's browser bundles and the moddle descriptors. */
export const VENDOR_PREFIX = '/assets/vendor/';

/**
 * Serves bpmn-js's prebuilt bundles and styles (`/assets/vendor/bpmn-js/…`, from the installed package's `dist`, so
 * nothing is copied into the repository) and the zeebe and Lifeline moddle descriptors
 * (`/assets/vendor/moddle/zeebe.json`, `…/lifeline.json`) the modeler reads and writes extension elements with.
 */
export function webVendor(): express.RequestHandler {
  const bpmnJs = express.static(join(dirname(require.resolve('bpmn-js/package.json')), 'dist'), {
    fallthrough: true,
    index: false,
    maxAge: '1h',
  });
  // Loaded with the first request for one (the designer's), so a server nobody designs on does not carry them.
  let descriptors: Promise<Map<string, string>> | undefined;
  const loadDescriptors = () =>
    (descriptors ??= import('@lifeline/bpmn').then(
      ({ MODDLE_EXTENSIONS }) =>
        new Map(Object.entries(MODDLE_EXTENSIONS).map(([name, d]) => [`${name}.json`, JSON.stringify(d)])),
    ));
  return (request, response, next) => {
    const rest = request.path.slice(VENDOR_PREFIX.length);
    if (rest.startsWith('bpmn-js/')) {
      request.url = request.url.slice(VENDOR_PREFIX.length + 'bpmn-js'.length);
      return bpmnJs(request, response, next);
    }
    if (!rest.startsWith('moddle/')) return next();
    loadDescriptors().then((all) => {
      const descriptor = all.get(rest.slice('moddle/'.length));
      if (descriptor === undefined) return next();
      response.type('application/json').send(descriptor);
    }, next);
  };
}
