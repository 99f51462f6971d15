package bootstrap

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
)

// UserDataLimit is the most user-data EC2 takes: 16 KB in raw form,
// before base64 ("Run commands when you launch an EC2 instance with user
// data input", EC2 User Guide). RunInstances refuses more.
const UserDataLimit = 16384

// Pack is the manager's cloud-config as it is launched: gzip-compressed,
// which cloud-init recognises and expands ("Compressed content" in
// cloud-init's user-data formats), since the scripts written out in full
// are larger than EC2's limit. The same document packs to the same bytes
// (no file name or time in the gzip header), so an unchanged manager is
// not seen as changed.
func Pack(doc []byte) ([]byte, error) {
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(doc); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if b.Len() > UserDataLimit {
		return nil, fmt.Errorf("the manager's user-data is %d bytes compressed, more than the %d EC2 takes: use fewer or shorter tags or schedule periods", b.Len(), UserDataLimit)
	}
	return b.Bytes(), nil
}

// Unpack reads user-data as launched: expanded when it is gzip (Pack),
// as it is otherwise (a manager launched before user-data was packed).
func Unpack(raw []byte) ([]byte, error) {
	if len(raw) < 2 || raw[0] != 0x1f || raw[1] != 0x8b {
		return raw, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	// A cloud-config is small; the bound keeps a hostile answer from
	// filling memory.
	return io.ReadAll(io.LimitReader(zr, 1<<20))
}
