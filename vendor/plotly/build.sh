#!/bin/sh
# Rebuilds plotly-dashboard.min.js (committed; run by hand after changing plotly.js's version or the
# trace types in entry.js). Needs Node.js and npm; the version of plotly.js must be the one plotly.py
# ships (plotly/package_data/plotly.min.js), whose figure format the server writes.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
{
  printf '/*! plotly.js %s, partial bundle: core, bar, heatmap, scattergeo. MIT license, (c) Plotly, Inc. */\n' \
    "$(node -p 'require("plotly.js/package.json").version')"
  npx esbuild entry.js --bundle --minify --format=iife --global-name=Plotly --define:global=window \
    --target=es2016 --legal-comments=none --log-level=warning --outdir=build
  cat build/entry.js
} > plotly-dashboard.min.js.tmp
mv plotly-dashboard.min.js.tmp plotly-dashboard.min.js
rm -rf build
