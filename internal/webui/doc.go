// Package webui serves cairn's web UI: a page at / of the HTTP listener of
// cairn dev and cairn server, and its assets under /ui/, embedded in the
// binary (plain HTML, CSS and JavaScript modules: no build step, no CDN).
// The page reads and acts through the management API (internal/httpapi)
// on the same listener, and follows runs and the workflow list live over
// its Server-Sent Events.
//
// It imports only the standard library. Its browser test (browser/) drives
// Debian's Chromium with playwright-core against the real engine.
package webui
