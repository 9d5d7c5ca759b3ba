// origin-request: send each viewer to the nearest of several origins, by great-circle distance
// from CloudFront-Viewer-Latitude/-Longitude. Here the "origins" are three paths of the local
// mock origin; in production they would be three regional domain names.
'use strict';

const ORIGINS = [
  { name: 'eu-central-1', lat: 50.11, lon: 8.68, path: '/echo/eu' },
  { name: 'us-east-1', lat: 38.9, lon: -77.04, path: '/echo/us' },
  { name: 'ap-northeast-1', lat: 35.68, lon: 139.69, path: '/echo/ap' },
];

function distanceKm(aLat, aLon, bLat, bLon) {
  const rad = (d) => (d * Math.PI) / 180;
  const h = Math.sin(rad(bLat - aLat) / 2) ** 2 + Math.cos(rad(aLat)) * Math.cos(rad(bLat)) * Math.sin(rad(bLon - aLon) / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}

exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const lat = parseFloat(request.headers['cloudfront-viewer-latitude']?.[0].value);
  const lon = parseFloat(request.headers['cloudfront-viewer-longitude']?.[0].value);
  if (Number.isNaN(lat) || Number.isNaN(lon)) return request;
  const nearest = ORIGINS.reduce((best, o) => (distanceKm(lat, lon, o.lat, o.lon) < distanceKm(lat, lon, best.lat, best.lon) ? o : best));
  const custom = request.origin.custom;
  request.origin = { custom: { ...custom, path: nearest.path } };
  request.headers['x-nearest-origin'] = [{ key: 'X-Nearest-Origin', value: nearest.name }];
  return request;
};
