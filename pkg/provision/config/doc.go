// Package config is the configuration file: its types and defaults, how it
// is read (size and alias limits, line-numbered errors), validated
// (every problem in one pass, each with its fix), the JSON schema editors
// use, the commented template `init` writes, and the CIDR arithmetic the
// network's layout is derived with.
package config
