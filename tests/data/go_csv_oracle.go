// Command go_csv_oracle answers with Go's own encoding/csv, so the tests can compare the Python reader and
// writer with the Go semantics gogen had (build: go build -o oracle go_csv_oracle.go; Go standard library only).
//
//	oracle write < cases.jsonl   each input line is a JSON array of strings; prints one JSON string per line:
//	                             the bytes csv.Writer wrote for that record
//	oracle read N < cases.jsonl  each input line is a JSON string holding a whole file; reads it the way gogen did
//	                             (drop a first line starting with RECORD_ID, then csv.Reader with FieldsPerRecord
//	                             = N and ReadAll) and prints {"rows": [[...], ...]} or {"error": "..."}
package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	switch os.Args[1] {
	case "write":
		for in.Scan() {
			var record []string
			if err := json.Unmarshal(in.Bytes(), &record); err != nil {
				panic(err)
			}
			var buf bytes.Buffer
			w := csv.NewWriter(&buf)
			if err := w.Write(record); err != nil {
				panic(err)
			}
			w.Flush()
			if err := enc.Encode(buf.String()); err != nil {
				panic(err)
			}
		}
	case "read":
		fields, err := strconv.Atoi(os.Args[2])
		if err != nil {
			panic(err)
		}
		for in.Scan() {
			var text string
			if err := json.Unmarshal(in.Bytes(), &text); err != nil {
				panic(err)
			}
			reader := bufio.NewReader(bytes.NewReader([]byte(text)))
			if bytes.HasPrefix([]byte(text), []byte("RECORD_ID")) {
				reader.ReadLine()
			}
			r := csv.NewReader(reader)
			r.FieldsPerRecord = fields
			rows, err := r.ReadAll()
			answer := map[string]interface{}{"rows": rows}
			if err != nil {
				answer = map[string]interface{}{"error": err.Error()}
			}
			if err := enc.Encode(answer); err != nil {
				panic(err)
			}
		}
	default:
		fmt.Fprintln(os.Stderr, "usage: oracle write|read N")
		os.Exit(2)
	}
}
