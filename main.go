// Command exohunter turns NASA Exoplanet Archive catalogs (Kepler KOI, TESS
// TOI, K2, Planetary Systems) into classified, queryable results on DuckDB:
// a web dashboard and REST API (serve), and machine-facing commands that
// print one JSON line each (ingest, process, snapshot, ...).
//
// main.go only wires things together; each command lives in a cli_*.go file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/exohunter/exohunter/engine"
)

func main() {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	var received atomic.Int32
	go func() {
		s := <-sigs
		received.Store(int32(s.(syscall.Signal)))
		// note: the first signal asks for a clean stop; a second one, when
		// that stop hangs, ends the process at once as the default does.
		signal.Stop(sigs)
		stop()
	}()

	m := NewMain()
	cmd, _ := splitCommand(os.Args[1:])
	if cmd != "" && cmd != "serve" {
		// libduckdb prints "INTERRUPT Error" on stdout when a query is
		// cancelled; machine-facing commands must keep stdout pure JSON, so
		// the C side's stdout goes to stderr and Go writes to a private copy.
		m.Stdout = protectStdout()
	}
	err := m.Run(ctx, os.Args[1:])
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	m.signal = syscall.Signal(received.Load())
	os.Exit(m.exitCode(ctx, err))
}

// Main is the whole program, so that end-to-end tests can run it in-process
// with their own arguments, environment and output streams.
type Main struct {
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	Logger *slog.Logger

	engine *engine.Engine
	// helpAsked is set when the command's arguments ask for its help,
	// which then goes to Stdout (it is the output, as with exohunter help).
	helpAsked bool
	// signal is the signal that cancelled the command (SIGINT when unset).
	signal syscall.Signal
}

// NewMain returns a Main bound to the process's streams and environment.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

// errUsage marks command-line mistakes; they exit with status 2.
var errUsage = errors.New("usage")

// Run executes the command named in args (serve when none is named).
func (m *Main) Run(ctx context.Context, args []string) error {
	if m.Logger == nil {
		m.Logger = slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	name, rest := splitCommand(args)
	if name == "" && (slices.Contains(rest, "-h") || slices.Contains(rest, "--help") || slices.Contains(rest, "-help")) {
		// note: without a command, help is the command list, not serve's
		// flags (serve being the default command).
		name = "help"
	}
	if name == "" {
		name = "serve"
	}
	if name == "help" || name == "-h" || name == "--help" {
		// note: asked-for help is the output, so it can be piped to less.
		m.usage(m.Stdout)
		return nil
	}
	if p := slices.Index(args, name); p > 0 && !isCommand(name) && strings.HasPrefix(args[p-1], "-") && !strings.Contains(args[p-1], "=") {
		// note: "exohunter --name toi ingest FILE": a command's flag given
		// before the command took its value for the command. The next
		// argument that names a command is the command, and the flag
		// goes to it, as it would after it.
		for j := p + 1; j < len(args) && args[j] != "--"; j++ {
			if isCommand(args[j]) {
				name, rest = args[j], append(append([]string{}, args[:j]...), args[j+1:]...)
				break
			}
		}
	}
	for _, c := range commands {
		if c.name == name {
			m.helpAsked = slices.ContainsFunc(rest, func(a string) bool { return a == "-h" || a == "--help" || a == "-help" })
			err := c.run(m, ctx, rest)
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		}
	}
	m.usage(m.Stderr)
	return fmt.Errorf("%w: unknown command %q", errUsage, name)
}

// isCommand reports whether name is one of the commands.
func isCommand(name string) bool {
	return slices.ContainsFunc(commands, func(c command) bool { return c.name == name })
}

// Close releases the engine, if a command opened one.
func (m *Main) Close() error {
	if m.engine == nil {
		return nil
	}
	err := m.engine.Close()
	m.engine = nil
	return err
}

// exitCode prints err for a person and maps it to the process exit status:
// 0 success, 2 usage mistakes, 1 everything else.
func (m *Main) exitCode(ctx context.Context, err error) int {
	if err == nil {
		return 0
	}
	if ctx.Err() != nil {
		// note: Ctrl-C or SIGTERM cancelled the command; the error that
		// caused (a cancelled query, often unclassified) is no internal
		// error, and the shell's status is 128 + the signal's number.
		var cut *shutdownCut
		if errors.As(err, &cut) {
			// note: serve runs until a signal; what its stop cut off is
			// the one thing to say.
			fmt.Fprintf(m.Stderr, "exohunter: %s\n", cut.msg)
		} else {
			fmt.Fprintln(m.Stderr, "exohunter: interrupted before the command finished")
			if !errors.Is(err, context.Canceled) && engine.ErrorCode(err) != engine.Timeout && !strings.Contains(err.Error(), "INTERRUPT") {
				fmt.Fprintf(m.Stderr, "exohunter: %s\n", describe(err))
			}
		}
		sig := m.signal
		if sig == 0 {
			sig = syscall.SIGINT
		}
		return 128 + int(sig)
	}
	if errors.Is(err, syscall.EPIPE) {
		// note: the reader closed the pipe (| head): quiet, as SIGPIPE
		// would end any other Unix tool, and with its status.
		return 128 + int(syscall.SIGPIPE)
	}
	if errors.Is(err, errUsage) {
		fmt.Fprintf(m.Stderr, "exohunter: %v\n", err)
		return 2
	}
	fmt.Fprintf(m.Stderr, "exohunter: %s\n", describe(err))
	if engine.ErrorCode(err) == engine.Internal {
		m.Logger.Error("internal error", "err", err)
	}
	return 1
}

// describe returns the sentence to print for err: the engine's user-facing
// message with its details, or the error text for CLI-level errors.
func describe(err error) string {
	var e *engine.Error
	if !errors.As(err, &e) {
		// note: a full disk or DuckDB's memory limit has a sentence of its
		// own even when it arrives as a plain error.
		if msg := engine.ErrorMessage(err); msg != "internal error" {
			return msg
		}
		return err.Error()
	}
	summary := engine.ErrorMessage(err)
	msg, quoted := summary, false
	for _, d := range e.Details {
		line := d.Message
		if d.Field != "" {
			line = d.Field + ": " + d.Message
		}
		// The summary usually quotes one problem, with or without its
		// field name in front; that one is not repeated. Only one: a
		// config with the same unknown column in two rules has two
		// problems of the same text, and each is printed.
		if !quoted && (strings.Contains(summary, line) || strings.Contains(summary, d.Message)) {
			quoted = true
			continue
		}
		msg += "\n  " + line
	}
	return msg
}
