// Package memo renders assessments as a brief-ready Markdown memo, with the
// two answers up front and every source footnoted. The CLI (`assess -o
// markdown`) and the server's HTTP door (`Accept: text/markdown`) both use
// it, so a memo reads the same whichever way it was asked for. The words it
// uses for enum values and sources are exported for the CLI's text report,
// so the report and the memo word things alike.
package memo
