'use strict';

const { themes, fallback } = require('./themes.json');

// The viewer's theme if it is one we have, else the default.
exports.pick = (wanted) => (themes.includes(wanted) ? wanted : fallback);
