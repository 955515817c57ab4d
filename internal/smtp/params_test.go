package smtp

import (
	"reflect"
	"testing"
)

func TestParseMailParams(t *testing.T) {
	p, err := ParseMailParams("SIZE=1000 body=8bitmime SMTPUTF8 RET=hdrs ENVID=QQ+2B1 AUTH=a+2Bb@example.org BY=120;RT")
	if err != nil {
		t.Fatal(err)
	}
	want := MailParams{Size: 1000, Body: "8BITMIME", SMTPUTF8: true, Ret: "HDRS", EnvID: "QQ+1",
		Auth: "a+b@example.org", HasAuth: true, By: &By{Seconds: 120, Mode: 'R', Trace: true}}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("got %+v\nwant %+v", p, want)
	}
	bad := map[string]string{
		"SIZE=abc":          "5.5.4",
		"SIZE=-1":           "5.5.4",
		"BODY=9BIT":         "5.5.4",
		"RET=ALL":           "5.5.4",
		"ENVID=a+0D+0Ab":    "5.5.4",
		"FOO=bar":           "5.5.4",
		"SIZE=1 SIZE=2":     "5.5.4",
		"BY=0;R":            "5.5.4",
		"BY=10":             "5.5.4",
		"BY=10;X":           "5.5.4",
		"BY=1234567890;R":   "5.5.4",
		"AUTH=notanaddress": "5.5.4",
		"SMTPUTF8=yes":      "5.5.4",
		"ENVID=":            "5.5.4",
	}
	for in, enh := range bad {
		if _, err := ParseMailParams(in); err == nil || err.Reply.Enhanced != enh {
			t.Errorf("%q: got %v, want %s", in, err, enh)
		}
	}
	if p, err := ParseMailParams("BY=-5;N AUTH=<>"); err != nil || p.By.Seconds != -5 || p.Auth != "<>" {
		t.Errorf("BY=-5;N: %+v %v", p, err)
	}
	if _, err := ParseMailParams("FOO=1"); err == nil || err.Reply.Code != 555 {
		t.Errorf("unknown parameter: %v, want 555", err)
	}
}

func TestParseRcptParams(t *testing.T) {
	p, err := ParseRcptParams("NOTIFY=success,failure ORCPT=rfc822;a+2Bb@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Notify, []string{"SUCCESS", "FAILURE"}) || p.ORCPT != "rfc822;a+b@example.org" {
		t.Fatalf("got %+v", p)
	}
	for _, in := range []string{"NOTIFY=NEVER,SUCCESS", "NOTIFY=SOMETIMES", "ORCPT=rfc822", "ORCPT=rfc822;a+0Db", "X=1"} {
		if _, err := ParseRcptParams(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestReplyLines(t *testing.T) {
	r := R(250, "2.0.0", "one\ntwo")
	if got := r.String(); got != "250-2.0.0 one\r\n250 2.0.0 two\r\n" {
		t.Fatalf("got %q", got)
	}
	if got := R(220, "", "hi").String(); got != "220 hi\r\n" {
		t.Fatalf("got %q", got)
	}
}
