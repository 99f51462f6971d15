package awstest

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
)

// logKeys stands in for CloudWatch Logs' AssociateKmsKey and
// DisassociateKmsKey, which moto does not implement ("The
// associate_kms_key action has not been implemented"): the proxy answers
// them itself, remembers each group's key, and shows it in
// DescribeLogGroups as CloudWatch Logs does. A group made or deleted
// again forgets what was associated before.
type logKeys struct {
	mu   sync.Mutex
	keys map[string]string // group name -> key ARN ("": disassociated)
}

// logsAction is the operation of a CloudWatch Logs JSON call
// (X-Amz-Target Logs_20140328.NAME), or "".
func logsAction(action string) string {
	op, ok := strings.CutPrefix(action, "Logs_20140328.")
	if !ok {
		return ""
	}
	return op
}

// answer handles an association call in moto's place; false: not one.
func (l *logKeys) answer(w http.ResponseWriter, action string, body []byte) bool {
	op := logsAction(action)
	if op != "AssociateKmsKey" && op != "DisassociateKmsKey" {
		return false
	}
	var in map[string]string
	_ = json.Unmarshal(body, &in)
	l.mu.Lock()
	if l.keys == nil {
		l.keys = map[string]string{}
	}
	l.keys[in["logGroupName"]] = in["kmsKeyId"] // "" for DisassociateKmsKey
	l.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("{}"))
	return true
}

// seen forgets a group made or deleted again.
func (l *logKeys) seen(action string, body []byte) {
	if op := logsAction(action); op != "CreateLogGroup" && op != "DeleteLogGroup" {
		return
	}
	var raw map[string]any
	_ = json.Unmarshal(body, &raw)
	name, _ := raw["logGroupName"].(string)
	l.mu.Lock()
	delete(l.keys, name)
	l.mu.Unlock()
}

// rewrite puts the associated keys into a DescribeLogGroups answer.
func (l *logKeys) rewrite(action string, body []byte) []byte {
	if logsAction(action) != "DescribeLogGroups" {
		return body
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.keys) == 0 {
		return body
	}
	var out map[string]any
	if json.Unmarshal(body, &out) != nil {
		return body
	}
	groups, _ := out["logGroups"].([]any)
	for _, g := range groups {
		m, _ := g.(map[string]any)
		name, _ := m["logGroupName"].(string)
		key, ok := l.keys[name]
		switch {
		case !ok:
		case key == "":
			delete(m, "kmsKeyId")
		default:
			m["kmsKeyId"] = key
		}
	}
	fixed, err := json.Marshal(out)
	if err != nil {
		return body
	}
	return fixed
}
