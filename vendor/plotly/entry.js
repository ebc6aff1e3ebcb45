// The trace types the dashboard's charts draw (components/charts.py); scatter comes with the core.
// Keep in step with delivery.BUNDLED_TRACES, which a test checks against every chart the pages make.
var Plotly = require('plotly.js/lib/core');

Plotly.register([require('plotly.js/lib/bar'), require('plotly.js/lib/heatmap'), require('plotly.js/lib/scattergeo')]);

module.exports = Plotly;
