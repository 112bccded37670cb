package main

import (
	"fmt"
	"reflect"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/internal/config"
)

// configFlags are the flags of the config settings that have a flag tag.
// They are bound to values of their own, so that apply lays over a loaded
// config only the flags given on the command line: defaults, the file, the
// environment, then flags.
type configFlags struct {
	cmd      *cobra.Command
	values   config.Config
	settings []config.Setting
}

// bindConfigFlags registers on cmd a flag per setting of list that has a
// flag tag: its usage from the help tag and the variable, its default from
// def, except for a secret, whose default is never shown.
func bindConfigFlags(cmd *cobra.Command, list []config.Setting, def config.Config) *configFlags {
	cf := &configFlags{cmd: cmd}
	f := cmd.Flags()
	for _, s := range list {
		if s.Flag == "" {
			continue
		}
		if s.Secret {
			reflect.ValueOf(s.Ptr(&def)).Elem().SetZero()
		}
		switch p := s.Ptr(&cf.values).(type) {
		case *string:
			f.StringVarP(p, s.Flag, s.Short, *s.Ptr(&def).(*string), s.Usage())
		case *bool:
			f.BoolVarP(p, s.Flag, s.Short, *s.Ptr(&def).(*bool), s.Usage())
		case *int:
			f.IntVarP(p, s.Flag, s.Short, *s.Ptr(&def).(*int), s.Usage())
		case *int64:
			f.Int64VarP(p, s.Flag, s.Short, *s.Ptr(&def).(*int64), s.Usage())
		case *time.Duration:
			f.DurationVarP(p, s.Flag, s.Short, *s.Ptr(&def).(*time.Duration), s.Usage())
		case *[]string:
			f.StringSliceVarP(p, s.Flag, s.Short, *s.Ptr(&def).(*[]string), s.Usage())
		default:
			panic(fmt.Sprintf("flag --%s: a setting of type %T has no flag kind", s.Flag, p))
		}
		cf.settings = append(cf.settings, s)
	}
	return cf
}

// apply sets in cfg the settings whose flag was given.
func (cf *configFlags) apply(cfg *config.Config) {
	for _, s := range cf.settings {
		if cf.cmd.Flags().Changed(s.Flag) {
			reflect.ValueOf(s.Ptr(cfg)).Elem().Set(reflect.ValueOf(s.Ptr(&cf.values)).Elem())
		}
	}
}
