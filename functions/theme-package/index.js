// viewer-request, published as a package (this folder, or a zip of its contents):
// the viewer's `theme` cookie, read with the `cookie-jar` dependency from node_modules,
// picks /themes/<theme>/<uri>; themes and the default come from ./lib/themes.json.
// Publish: edge publish theme ./functions/theme-package (Handler: index.handler).
'use strict';

const { parse } = require('cookie-jar');
const { pick } = require('./lib/pick');

exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const cookies = (request.headers.cookie || []).map((h) => parse(h.value));
  const theme = pick(Object.assign({}, ...cookies).theme);
  request.uri = `/themes/${theme}${request.uri}`;
  return request;
};
