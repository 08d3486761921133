package engine

import "context"

// Console returns the engine's SQL console, which runs on its own small
// connection pool so that console queries cannot starve the pipeline.
func (e *Engine) Console() *Console { return e.console }

// wireConsole creates the console at Open, spooling downloads under
// DATA/outputs (one of DuckDB's allowed directories in serve mode), and
// removes downloads a crashed process left spooled there (.console-*)
// when no other process uses the data dir.
func wireConsole(_ context.Context, e *Engine) error {
	l := e.opts.Console
	l.OutputsDir = e.path(DirOutputs)
	if e.aloneInDataDir() {
		removeConsoleSpool(l.OutputsDir)
	}
	e.console = NewConsole(e.consoleDB, l)
	return nil
}

func init() { openHooks = append(openHooks, wireConsole) }
