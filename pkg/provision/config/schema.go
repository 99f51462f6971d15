package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"

	"github.com/invopop/jsonschema"
)

// SchemaID is where editors may find the schema; `provision schema`
// prints the same document.
const SchemaID = "https://provision.dev/schema/provision.schema.json"

// ConfigSchema is the JSON Schema of the configuration file, generated
// from the Config type (its yaml names, jsonschema_description tags and
// Defaults()), not written by hand: the file, `validate` and an editor's
// checks cannot drift apart.
func ConfigSchema() *jsonschema.Schema {
	r := &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		RequiredFromJSONSchemaTags: true,
		DoNotReference:             true,
		ExpandedStruct:             true,
	}
	s := r.Reflect(&Config{})
	s.ID = SchemaID
	s.Title = "provision configuration"
	s.Description = "An autoscaling GitLab Runner environment on AWS, built by `provision up`."
	setDefaults(s, reflect.ValueOf(Defaults()))
	return s
}

// setDefaults copies the values of Defaults() into the schema's
// "default" keywords, so an editor shows them.
func setDefaults(s *jsonschema.Schema, v reflect.Value) {
	if s == nil || s.Properties == nil || v.Kind() != reflect.Struct {
		return
	}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name := t.Field(i).Tag.Get("yaml")
		prop, ok := s.Properties.Get(name)
		if !ok {
			continue
		}
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Struct:
			setDefaults(prop, f)
		case reflect.String, reflect.Int, reflect.Bool:
			if !f.IsZero() || f.Kind() == reflect.Int || f.Kind() == reflect.Bool {
				prop.Default = f.Interface()
			}
		}
	}
}

var (
	schemaOnce sync.Once
	schemaJSON []byte
)

// ConfigSchemaJSON is ConfigSchema as indented JSON.
func ConfigSchemaJSON() []byte {
	schemaOnce.Do(func() {
		b, err := json.MarshalIndent(ConfigSchema(), "", "  ")
		if err != nil {
			panic(fmt.Sprintf("the configuration schema does not marshal: %v", err))
		}
		schemaJSON = append(b, '\n')
	})
	return schemaJSON
}
