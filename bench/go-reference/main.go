// A CSI controller in Go that does the file work of this driver's CreateVolume and DeleteVolume
// of an empty volume on the local backend, with nothing else: no isolation, no health, no
// records beyond the two files. The bench compares the driver with it (see
// docs/performance.md, "CreateVolume against Go"). build.sh generates its stubs from
// csi.proto and builds it.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	csi "csiref/csi"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type server struct {
	csi.UnimplementedIdentityServer
	csi.UnimplementedControllerServer
	share string
	mu    sync.Mutex
	busy  map[string]bool
}

type record struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	CapacityBytes string            `json:"capacityBytes"`
	Parameters    map[string]string `json:"parameters"`
	CreatedAt     string            `json:"createdAt"`
}

// lock takes the volume's lock or answers ABORTED, as the driver does.
func (s *server) lock(id string) (func(), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy[id] {
		return nil, status.Errorf(codes.Aborted, "an operation on %s is in progress", id)
	}
	s.busy[id] = true
	return func() { s.mu.Lock(); delete(s.busy, id); s.mu.Unlock() }, nil
}

// writeAtomic: a temp file written and fsynced, renamed over the file, the directory fsynced.
func writeAtomic(file string, data []byte) error {
	tmp := fmt.Sprintf("%s.tmp-%d-%d", file, os.Getpid(), time.Now().UnixNano())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err = os.Rename(tmp, file); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(file))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (s *server) Probe(context.Context, *csi.ProbeRequest) (*csi.ProbeResponse, error) {
	return &csi.ProbeResponse{}, nil
}

func (s *server) CreateVolume(_ context.Context, req *csi.CreateVolumeRequest) (*csi.CreateVolumeResponse, error) {
	id := req.GetName()
	if id == "" || len(req.GetVolumeCapabilities()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "name and volume_capabilities are required")
	}
	unlock, err := s.lock(id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	size := req.GetCapacityRange().GetRequiredBytes()
	volume := filepath.Join(s.share, "volumes", id)
	entry := filepath.Join(s.share, "registry", "volumes", id+".json")
	// The reads of the driver's one round trip: the registry entry, volume.json, statfs, the directory.
	for _, f := range []string{entry, filepath.Join(volume, "volume.json")} {
		if _, err := os.ReadFile(f); err == nil {
			return nil, status.Errorf(codes.AlreadyExists, "%s exists", id)
		}
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(s.share, &st); err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	if _, err := os.Lstat(volume); err == nil {
		return nil, status.Errorf(codes.AlreadyExists, "%s has leftovers", id)
	}
	if err := os.MkdirAll(filepath.Join(volume, "data"), 0o777); err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	rec, _ := json.Marshal(record{ID: id, Name: id, CapacityBytes: strconv.FormatInt(size, 10), Parameters: map[string]string{}, CreatedAt: time.Now().UTC().Format(time.RFC3339Nano)})
	if err := writeAtomic(filepath.Join(volume, "volume.json"), rec); err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	if err := writeAtomic(entry, rec); err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	return &csi.CreateVolumeResponse{Volume: &csi.Volume{VolumeId: id, CapacityBytes: size, VolumeContext: map[string]string{"backend": "local"}}}, nil
}

func (s *server) DeleteVolume(_ context.Context, req *csi.DeleteVolumeRequest) (*csi.DeleteVolumeResponse, error) {
	id := req.GetVolumeId()
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "volume_id is required")
	}
	unlock, err := s.lock(id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	volume := filepath.Join(s.share, "volumes", id)
	if err := os.Remove(filepath.Join(volume, "volume.json")); err != nil && !os.IsNotExist(err) {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	if err := os.RemoveAll(volume); err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	if err := os.Remove(filepath.Join(s.share, "registry", "volumes", id+".json")); err != nil && !os.IsNotExist(err) {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	return &csi.DeleteVolumeResponse{}, nil
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go-reference <socket> <share>")
		os.Exit(2)
	}
	sock, share := os.Args[1], os.Args[2]
	if err := os.MkdirAll(filepath.Join(share, "registry", "volumes"), 0o750); err != nil {
		panic(err)
	}
	if err := os.MkdirAll(filepath.Join(share, "volumes"), 0o750); err != nil {
		panic(err)
	}
	_ = os.Remove(sock)
	l, err := net.Listen("unix", sock)
	if err != nil {
		panic(err)
	}
	s := &server{share: share, busy: map[string]bool{}}
	g := grpc.NewServer()
	csi.RegisterIdentityServer(g, s)
	csi.RegisterControllerServer(g, s)
	fmt.Println("listening")
	if err := g.Serve(l); err != nil {
		panic(err)
	}
}
