// origin-request: send /api/* to a different origin (here: the same host's /echo service
// under another origin path), everything else to the behavior's origin.
'use strict';

exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  if (request.uri.startsWith('/api/')) {
    const current = request.origin.custom;
    request.origin = {
      custom: {
        domainName: current.domainName,
        port: current.port,
        protocol: current.protocol,
        path: '/echo',
        sslProtocols: ['TLSv1.2'],
        readTimeout: 5,
        keepaliveTimeout: 5,
        customHeaders: { 'x-api-origin': [{ key: 'X-Api-Origin', value: 'yes' }] },
      },
    };
    request.uri = request.uri.slice('/api'.length);
  }
  return request;
};
