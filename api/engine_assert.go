package api

import "github.com/exohunter/exohunter/engine"

// Compile-time checks that the engine's concrete types satisfy the
// interfaces the API declares (STYLE rule 29).
var (
	_ Engine  = (*engine.Engine)(nil)
	_ Jobs    = (*engine.Jobs)(nil)
	_ Console = (*engine.Console)(nil)
)
