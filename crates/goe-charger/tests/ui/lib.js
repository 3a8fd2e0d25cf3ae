// Shared by the dashboard's browser tests (tests/ui/*.js): headless Debian
// Chromium (GOE_CHROMIUM) through puppeteer-core (GOE_PUPPETEER_DIR).
"use strict";
const path = require("path");
const puppeteer = require(path.join(process.env.GOE_PUPPETEER_DIR, "node_modules/puppeteer-core"));

// A headless browser as every dashboard test runs it.
function launch() {
  return puppeteer.launch({
    executablePath: process.env.GOE_CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
}

module.exports = { launch };
