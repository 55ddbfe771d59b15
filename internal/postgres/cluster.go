package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ClusterOptions tune a private cluster. Tests trade durability for speed.
type ClusterOptions struct {
	// Fast turns off fsync and friends: for throwaway test clusters only.
	Fast bool
	// Log receives progress lines ("installing PostgreSQL…"); nil means stderr.
	Log func(format string, args ...any)
}

// EnsureCluster makes sure a private PostgreSQL cluster lives under dir and is running, and
// returns the URL of its "postgres" database. It creates the cluster on first use (initdb) and
// starts it (pg_ctl) when stopped, so a second call with the same dir keeps the data of the first.
// The server listens only on a Unix socket inside dir, so clusters in different dirs never clash.
// PostgreSQL refuses to run as root; when we are root the server runs as the "postgres" user,
// and when that user cannot reach dir (a clone in root's home, mode 700) the cluster lives under
// /var/lib/marketplace instead (see homeFor), which the log says.
// When no server binaries are found, it installs Debian's postgresql if it can (root + apt-get),
// and otherwise returns an error that says what to install.
func EnsureCluster(ctx context.Context, dir string, opts ClusterOptions) (string, error) {
	logf := opts.Log
	if logf == nil {
		logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	bin, err := serverBinDir(ctx, logf)
	if err != nil {
		return "", err
	}
	asPostgres := os.Geteuid() == 0
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if asPostgres {
		if err := chownToPostgres(dir); err != nil {
			return "", err
		}
		home, err := homeFor(ctx, dir)
		if err != nil {
			return "", err
		}
		if home != dir {
			logf("postgres: the postgres user cannot reach %s (a parent directory is private), so the cluster lives in %s", dir, home)
			dir = home
		}
	}
	// Two processes (parallel test binaries) may ensure the same cluster at once.
	unlock, err := lockFile(filepath.Join(dir, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()

	run := func(name string, args ...string) ([]byte, error) {
		cmdPath := filepath.Join(bin, name)
		var cmd *exec.Cmd
		if asPostgres {
			cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", cmdPath}, args...)...)
		} else {
			cmd = exec.CommandContext(ctx, cmdPath, args...)
		}
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.Bytes(), err
	}

	data := filepath.Join(dir, "data")
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err != nil {
		logf("postgres: creating a cluster in %s", data)
		if out, err := run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-instructions"); err != nil {
			return "", fmt.Errorf("initdb: %v: %s", err, out)
		}
	}
	if _, err := run("pg_ctl", "status", "-D", data); err != nil {
		settings := []string{
			"-k", dir, "-c", "listen_addresses=", "-c", "max_connections=300",
			"-c", "shared_buffers=256MB", "-c", "unix_socket_permissions=0777",
		}
		if opts.Fast {
			settings = append(settings, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
		}
		logf("postgres: starting the cluster in %s", data)
		if out, err := run("pg_ctl", "start", "-w", "-t", "60", "-D", data, "-l", filepath.Join(dir, "server.log"), "-o", shellJoin(settings)); err != nil {
			return "", fmt.Errorf("pg_ctl start: %v: %s (see %s)", err, out, filepath.Join(dir, "server.log"))
		}
	}
	q := url.Values{"host": {dir}, "user": {"postgres"}, "sslmode": {"disable"}}
	return "postgres:///postgres?" + q.Encode(), nil
}

// StopCluster stops the cluster under dir, if it runs.
func StopCluster(ctx context.Context, dir string) error {
	bin, err := serverBinDir(ctx, func(string, ...any) {})
	if err != nil {
		return err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "PG_VERSION")); err != nil {
		if _, err := os.Stat(filepath.Join(relocated(dir), "data", "PG_VERSION")); err == nil {
			dir = relocated(dir)
		}
	}
	args := []string{filepath.Join(bin, "pg_ctl"), "stop", "-m", "fast", "-w", "-D", filepath.Join(dir, "data")}
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--"}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, args[0], args[1:]...)
	}
	if out, err := cmd.CombinedOutput(); err != nil && !bytes.Contains(out, []byte("Is server running?")) {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, out)
	}
	return nil
}

// serverBinDir finds the newest PostgreSQL (15 or later) server binaries, installing Debian's
// package when they are missing and we can.
func serverBinDir(ctx context.Context, logf func(string, ...any)) (string, error) {
	if dir := findServerBinDir(); dir != "" {
		return dir, nil
	}
	_, aptErr := exec.LookPath("apt-get")
	if os.Geteuid() != 0 || aptErr != nil {
		return "", fmt.Errorf("no PostgreSQL server found under /usr/lib/postgresql: install PostgreSQL 15 or later (on Debian: sudo apt-get install postgresql), or set DATABASE_URL")
	}
	logf("postgres: server binaries missing; installing Debian's postgresql (apt-get)")
	for _, args := range [][]string{{"update"}, {"install", "-y", "--no-install-recommends", "postgresql", "postgresql-contrib"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("apt-get %s: %v: %s", args[0], err, tail(out))
		}
	}
	if dir := findServerBinDir(); dir != "" {
		return dir, nil
	}
	return "", fmt.Errorf("installed postgresql but found no initdb under /usr/lib/postgresql")
}

func findServerBinDir() string {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	type found struct {
		version int
		dir     string
	}
	var all []found
	for _, m := range matches {
		dir := filepath.Dir(m)
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
		if err == nil && v >= 15 {
			all = append(all, found{v, dir})
		}
	}
	if len(all) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p)
		}
		return ""
	}
	sort.Slice(all, func(i, j int) bool { return all[i].version > all[j].version })
	return all[0].dir
}

// homeFor returns where the cluster for dir lives when the server runs as the postgres user:
// dir itself when that user can enter and write it, otherwise a directory of its own under
// /var/lib/marketplace, named by a hash of dir so that each checkout keeps its own cluster
// between runs. The note file dir/ELSEWHERE says where, for a person looking in dir.
//
// Why move rather than open the way: granting the postgres user traversal (chmod o+x, or an
// ACL) on a private home directory would change a protection its owner chose, for every file
// under it, to suit a database. Why /var/lib and not /tmp: /tmp is emptied at boot, and the
// data of `make run` is meant to stay; /var/lib is where a system keeps such state.
func homeFor(ctx context.Context, dir string) (string, error) {
	if exec.CommandContext(ctx, "runuser", "-u", "postgres", "--", "test", "-x", dir, "-a", "-w", dir).Run() == nil {
		return dir, nil
	}
	home := relocated(dir)
	if err := os.MkdirAll(filepath.Dir(home), 0o755); err != nil {
		return "", fmt.Errorf("the postgres user cannot reach %s, and %w", dir, err)
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return "", err
	}
	if err := chownToPostgres(home); err != nil {
		return "", err
	}
	note := "The PostgreSQL cluster of this directory lives in " + home + "\n" +
		"(the postgres user, who runs it, cannot enter this directory).\n"
	if err := os.WriteFile(filepath.Join(dir, "ELSEWHERE"), []byte(note), 0o644); err != nil {
		return "", err
	}
	return home, nil
}

// relocated is the directory under /var/lib/marketplace kept for the cluster of dir.
func relocated(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return filepath.Join("/var/lib/marketplace", "pg-"+hex.EncodeToString(sum[:8]))
}

func chownToPostgres(dir string) error {
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root needs a postgres user to run the server: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(dir, uid, gid)
}

// lockFile takes an exclusive flock, waiting for it; the returned func releases it.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
			break
		} else if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// shellJoin quotes pg_ctl's -o options, which pg_ctl hands to a shell.
func shellJoin(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
