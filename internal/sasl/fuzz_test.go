package sasl

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// checkFailure asserts the invariants of every mechanism failure: it is an
// *Error with a known Kind, and it ended the exchange.
func checkFailure(t *testing.T, err error, done bool) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not *Error", err, err)
	}
	if e.Kind < BadCredentials || e.Kind > AuthzDenied || e.Reason == "" {
		t.Fatalf("error kind %d reason %q", e.Kind, e.Reason)
	}
	if !done {
		t.Fatal("failure did not end the exchange")
	}
	return e
}

func FuzzPlainServer(f *testing.F) {
	f.Add([]byte("\x00tim\x00tanstaaftanstaaf"))
	f.Add([]byte("Ursel\x00Kurt\x00xipj3plmq"))
	f.Add([]byte("tim\x00tim\x00tanstaaftanstaaf"))
	f.Add([]byte("\x00tim\x00"))
	f.Add([]byte("\x00\x00"))
	f.Add([]byte("a\x00b\x00c\x00d"))
	f.Add([]byte("\xff\x00tim\x00tanstaaftanstaaf"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		creds := newTestCredentials("tim", "tanstaaftanstaaf", "Kurt", "xipj3plmq")
		creds.authz["Kurt"] = "Ursel"
		s := NewPlainServer(ServerInfo{}, creds)
		_, done, err := s.Next(msg)
		fields := bytes.Split(msg, []byte{0})
		if err != nil {
			e := checkFailure(t, err, done)
			if len(fields) == 3 && len(fields[2]) >= 4 && strings.Contains(e.Error(), string(fields[2])) &&
				!bytes.Contains(fields[0], fields[2]) && !bytes.Contains(fields[1], fields[2]) {
				t.Fatalf("error %q reveals the password", e.Error())
			}
			return
		}
		if !done || len(fields) != 3 || creds.passwords[string(fields[1])] != string(fields[2]) || s.Result().User != string(fields[1]) {
			t.Fatalf("accepted %q as %+v", msg, s.Result())
		}
	})
}

func FuzzLoginServer(f *testing.F) {
	f.Add(true, []byte("tim"), []byte("tanstaaftanstaaf"))
	f.Add(false, []byte("tim"), []byte("tanstaaftanstaaf"))
	f.Add(false, []byte(""), []byte(""))
	f.Add(true, []byte("tim"), []byte(""))
	f.Fuzz(func(t *testing.T, initial bool, user, password []byte) {
		s := NewLoginServer(ServerInfo{}, newTestCredentials("tim", "tanstaaftanstaaf"))
		var challenge []byte
		var done bool
		var err error
		if initial {
			challenge, done, err = s.Next(user)
		} else {
			if challenge, done, err = s.Next(nil); string(challenge) != "Username:" || done || err != nil {
				t.Fatalf("first challenge %q %v %v", challenge, done, err)
			}
			challenge, done, err = s.Next(user)
		}
		if err != nil {
			checkFailure(t, err, done)
			return
		}
		if string(challenge) != "Password:" || done {
			t.Fatalf("second challenge %q %v", challenge, done)
		}
		_, done, err = s.Next(password)
		if err != nil {
			if e := checkFailure(t, err, done); len(password) >= 4 && strings.Contains(e.Error(), string(password)) && !bytes.Contains(user, password) {
				t.Fatalf("error %q reveals the password", e.Error())
			}
			return
		}
		if !done || string(user) != "tim" || string(password) != "tanstaaftanstaaf" {
			t.Fatalf("accepted %q / %q", user, password)
		}
	})
}

func FuzzCRAMMD5Server(f *testing.F) {
	f.Add([]byte("tim b913a602c7eda7a495b4e6e7334d3890"))
	f.Add([]byte("tim B913A602C7EDA7A495B4E6E7334D3890"))
	f.Add([]byte("tim  b913a602c7eda7a495b4e6e7334d3890"))
	f.Add([]byte("tim"))
	f.Add([]byte(" "))
	f.Add([]byte("tim b913a602c7eda7a495b4e6e7334d389g"))
	f.Fuzz(func(t *testing.T, response []byte) {
		s := NewCRAMMD5Server(rfc2195Info(), newTestCredentials("tim", "tanstaaftanstaaf"))
		if _, done, err := s.Next(nil); done || err != nil {
			t.Fatal(done, err)
		}
		_, done, err := s.Next(response)
		if err != nil {
			checkFailure(t, err, done)
			return
		}
		if !done || strings.ToLower(string(response)) != "tim b913a602c7eda7a495b4e6e7334d3890" {
			t.Fatalf("accepted %q", response)
		}
	})
}

// FuzzDigestMD5Server checks that whatever the server accepts is a proof
// of the password: the same response must fail at a server whose user has
// another password.
func FuzzDigestMD5Server(f *testing.F) {
	for _, v := range digestVariants {
		f.Add(v.response(labPassword))
	}
	f.Add(textbookWith(map[string]string{"realm": "-"}))
	f.Add(textbookWith(map[string]string{"nc": "00000002"}))
	f.Add(textbookWith(map[string]string{"digest-uri": `"smtp/10.0.0.5"`}))
	f.Add([]byte(`username="alice`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, response []byte) {
		run := func(password string) (Server, bool, error) {
			now := time.Unix(1700000000, 0)
			creds := labCredentials()
			for u := range creds.passwords {
				creds.passwords[u] = password
			}
			s := NewDigestMD5Server(labInfo(&now), creds)
			if _, done, err := s.Next(nil); done || err != nil {
				t.Fatal(done, err)
			}
			_, done, err := s.Next(response)
			return s, done, err
		}
		s, done, err := run(labPassword)
		if err != nil {
			e := checkFailure(t, err, done)
			if strings.Contains(e.Error(), labPassword) {
				t.Fatalf("error %q reveals the password", e.Error())
			}
			return
		}
		if done {
			t.Fatal("success ended the exchange before rspauth")
		}
		if _, done, err := s.Next(nil); !done || err != nil {
			t.Fatalf("final step: %v %v", done, err)
		}
		if _, _, err := run(labPassword + "x"); err == nil {
			t.Fatalf("response %q accepted without knowledge of the password", response)
		}
	})
}

// FuzzDigestMD5Parse checks the directive parser: names come out as
// lower-case tokens, and quoting every value reproduces the same list.
func FuzzDigestMD5Parse(f *testing.F) {
	f.Add([]byte(rfc2831Challenge))
	f.Add([]byte(rfc2831Response))
	for _, v := range digestVariants {
		f.Add([]byte(v.wire))
	}
	f.Add([]byte(`a="b\"c\\",,, d = e`))
	f.Add([]byte(`a="`))
	f.Add([]byte("a=\xff\x00"))
	f.Fuzz(func(t *testing.T, in []byte) {
		ds, err := parseDigestDirectives(in)
		if err != nil {
			return
		}
		parts := make([]string, len(ds))
		for i, d := range ds {
			if d.name == "" || d.name != strings.ToLower(d.name) {
				t.Fatalf("name %q", d.name)
			}
			for j := 0; j < len(d.name); j++ {
				if !isDigestTokenChar(d.name[j]) {
					t.Fatalf("name %q is not a token", d.name)
				}
			}
			parts[i] = d.name + "=" + quoteDigest(d.value)
		}
		again, err := parseDigestDirectives([]byte(strings.Join(parts, ",")))
		if err != nil || len(again) != len(ds) {
			t.Fatalf("re-parse of %q: %v", strings.Join(parts, ","), err)
		}
		for i := range ds {
			if again[i].name != ds[i].name || again[i].value != ds[i].value || !again[i].quoted {
				t.Fatalf("directive %d: %#v became %#v", i, ds[i], again[i])
			}
		}
	})
}
