/*
 * powercut: a power-cut simulator for one folder, without a special disk or a VM.
 *
 * Built two ways from this one file, by whoever runs it, into a temporary folder (never
 * committed as a binary):
 *
 *   cc -shared -fPIC -O2 -o libpowercut.so powercut.c -ldl -lpthread     (the shim)
 *   cc -O2 -DPOWERCUT_TOOL -o powercut powercut.c                         (the tool)
 *
 * The shim is LD_PRELOADed into the program under test. For files and folders under
 * $POWERCUT_DIR it keeps, in $POWERCUT_SHADOW, what a disk would still hold if the power
 * went now. Files and folders are inodes, as on a disk:
 *
 *  - fsync/fdatasync of a file copies the file's contents as they are now to its inode's
 *    shadow (a "blob"): that is what survives a cut. Writes after it are lost unless the
 *    file is synced again.
 *  - fsync of a folder records the folder's entries as they are now (name → file inode or
 *    folder inode). Only names recorded so survive a cut: a file created, renamed or
 *    removed without its folder being synced afterwards is, after a cut, as it was before
 *    (POSIX strictly: fsync(2) "does not necessarily ensure that the entry in the
 *    directory containing the file has also reached disk"; ext4 and XFS happen to persist
 *    a new file's name with its first fsync, which this does not assume). A file whose
 *    name survived but whose contents were never synced comes back empty.
 *  - syncfs/sync record everything under the folder.
 *  - unlink/rename/rmdir end the identity of the inode they remove, so a later file or
 *    folder that reuses the inode number does not inherit the old one's shadow.
 *
 * $POWERCUT_IGNORE_DIRS (folders relative to $POWERCUT_DIR, comma-separated) makes the shim
 * pass over syncs of those folders and the folders under them: what a program that never
 * synced them would keep (to show what a missing folder sync costs).
 *
 * The real fsync is not called for those files (the shadow is the disk); everything else
 * passes through. Each intercepted call appends a line to $POWERCUT_SHADOW/calls.log, so a
 * test can prove the shim saw the syncs (a statically linked or raw-syscall caller would
 * escape it).
 *
 * The tool, run while the program is stopped (SIGKILL it first):
 *
 *   powercut init DIR SHADOW        everything now in DIR is durable (a clean start)
 *   powercut cut DIR SHADOW [SEED]  replace the contents of DIR by what the shadow says
 *                                   survived, then init again. With SEED, each 4 KiB
 *                                   block of a file whose inode is still there comes at
 *                                   random from the synced or the current (unsynced)
 *                                   contents, and its length from either: unsynced
 *                                   writes that reached the disk in any order and part
 *                                   ("torn"). Without, every unsynced write is lost
 *                                   ("drop").
 *
 * The cut prints one line: files and bytes kept out of those there were.
 *
 * Shadow layout: root (the id of DIR's folder inode), inodes/<dev>-<ino> (the id of a
 * live inode), blobs/<id> (a file's durable contents), dirs/<id>/<name> (a folder's
 * durable entries, each "f <id>" or "d <id>"), tmp/, calls.log (kept by init and cut).
 *
 * Not modelled: hard links, O_SYNC/O_DSYNC writes, msync, a disk whose write cache
 * ignores flushes, damage to data that was already durable.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096
#define CHUNK (64 * 1024)
#define ID 128

static char dir_root[PATH_MAX];    /* $POWERCUT_DIR, resolved */
static char shadow_root[PATH_MAX]; /* $POWERCUT_SHADOW, resolved */
static size_t dir_len;

/* The shim interposes unlink and rename: its own housekeeping goes to the kernel. */
static int do_unlink(const char *path) { return (int)syscall(SYS_unlinkat, AT_FDCWD, path, 0); }
static int do_rename(const char *from, const char *to) {
    return (int)syscall(SYS_renameat, AT_FDCWD, from, AT_FDCWD, to);
}
static int do_rmdir(const char *path) { return (int)syscall(SYS_unlinkat, AT_FDCWD, path, AT_REMOVEDIR); }

/* ---- helpers shared by the shim and the tool -------------------------------------- */

static int path_join(char *out, const char *a, const char *b) {
    int n = snprintf(out, PATH_MAX, "%s/%s", a, b);
    return n > 0 && n < PATH_MAX ? 0 : -1;
}

static int skip(const char *name) { return !strcmp(name, ".") || !strcmp(name, ".."); }

/* rm -rf */
__attribute__((unused)) static void remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                char child[PATH_MAX];
                if (!skip(e->d_name) && path_join(child, path, e->d_name) == 0) remove_tree(child);
            }
            closedir(d);
        }
        do_rmdir(path);
    } else {
        do_unlink(path);
    }
}

static int mkdirs(const char *path) {
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    return mkdir(tmp, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

static unsigned long long counter;

static void new_id(char *out, size_t size) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(out, size, "%lld%09ld-%d-%llu", (long long)ts.tv_sec, ts.tv_nsec, (int)getpid(), ++counter);
}

/* Writes a small file whole (temporary name, then rename): it is there or it is not. */
static int write_text(const char *path, const char *text) {
    char tmp[PATH_MAX], id[ID];
    new_id(id, sizeof id);
    if (snprintf(tmp, sizeof tmp, "%s/tmp/%s", shadow_root, id) >= (int)sizeof tmp) return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    size_t n = strlen(text);
    int ok = write(fd, text, n) == (ssize_t)n;
    close(fd);
    if (!ok || do_rename(tmp, path) != 0) {
        do_unlink(tmp);
        return -1;
    }
    return 0;
}

static int read_text(const char *path, char *out, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, out, size - 1);
    close(fd);
    if (n <= 0) return -1;
    out[n] = 0;
    return 0;
}

static void inode_key(char *out, dev_t dev, ino_t ino) {
    snprintf(out, PATH_MAX, "%s/inodes/%llu-%llu", shadow_root, (unsigned long long)dev, (unsigned long long)ino);
}

/* The id of a live inode; a new one (an empty blob or folder: nothing of it durable yet)
 * when it has none. */
static int id_of(const struct stat *st, char *id, size_t size) {
    char key[PATH_MAX], made[PATH_MAX + ID];
    inode_key(key, st->st_dev, st->st_ino);
    if (read_text(key, id, size) == 0) return 0;
    new_id(id, size);
    if (S_ISDIR(st->st_mode)) {
        snprintf(made, sizeof made, "%s/dirs/%s", shadow_root, id);
        if (mkdir(made, 0755) != 0) return -1;
    } else {
        snprintf(made, sizeof made, "%s/blobs/%s", shadow_root, id);
        int fd = open(made, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) return -1;
        close(fd);
    }
    return write_text(key, id);
}

static char buf_a[CHUNK], buf_b[CHUNK]; /* under the lock in the shim */

/* Makes the blob equal to the file's contents now, rewriting only the 4 KiB blocks that
 * differ. A copy cut short (the process killed inside it) leaves a mix of old and new
 * blocks, which is what a disk may hold after a cut during a sync anyway. */
static int copy_contents(int src, int dst) {
    off_t off = 0;
    for (;;) {
        ssize_t n = pread(src, buf_a, CHUNK, off);
        if (n < 0) return -1;
        if (n == 0) break;
        ssize_t m = pread(dst, buf_b, n, off);
        if (m < 0) m = 0;
        for (ssize_t i = 0; i < n; i += BLOCK) {
            ssize_t len = n - i < BLOCK ? n - i : BLOCK;
            if (i + len <= m && memcmp(buf_a + i, buf_b + i, len) == 0) continue;
            if (pwrite(dst, buf_a + i, len, off + i) != len) return -1;
        }
        off += n;
    }
    return ftruncate(dst, off);
}

static int sync_file(const char *path, const struct stat *st) {
    char id[ID], blob[PATH_MAX + ID];
    if (id_of(st, id, sizeof id) != 0) return -1;
    snprintf(blob, sizeof blob, "%s/blobs/%s", shadow_root, id);
    int src = open(path, O_RDONLY | O_CLOEXEC);
    if (src < 0) return -1;
    int dst = open(blob, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (dst < 0) {
        close(src);
        return -1;
    }
    int rc = copy_contents(src, dst);
    close(src);
    close(dst);
    return rc;
}

/* Records the entries of the folder at `path` as durable. */
static int sync_dir(const char *path, const struct stat *st) {
    char id[ID], listing[PATH_MAX + ID];
    if (id_of(st, id, sizeof id) != 0) return -1;
    snprintf(listing, sizeof listing, "%s/dirs/%s", shadow_root, id);
    mkdirs(listing);
    DIR *d = opendir(path);
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        char child[PATH_MAX], entry[PATH_MAX], child_id[ID], text[ID + 4];
        struct stat cst;
        if (skip(e->d_name) || path_join(child, path, e->d_name) || path_join(entry, listing, e->d_name)) continue;
        if (lstat(child, &cst) != 0 || !(S_ISDIR(cst.st_mode) || S_ISREG(cst.st_mode))) continue;
        if (id_of(&cst, child_id, sizeof child_id) != 0) continue;
        snprintf(text, sizeof text, "%c %s", S_ISDIR(cst.st_mode) ? 'd' : 'f', child_id);
        write_text(entry, text);
    }
    closedir(d);
    /* Names no longer there are gone for good. */
    d = opendir(listing);
    if (!d) return -1;
    while ((e = readdir(d))) {
        char child[PATH_MAX], entry[PATH_MAX];
        struct stat cst;
        if (skip(e->d_name) || path_join(child, path, e->d_name) || path_join(entry, listing, e->d_name)) continue;
        if (lstat(child, &cst) != 0) do_unlink(entry);
    }
    closedir(d);
    return 0;
}

/* Everything under `path` is durable. */
static void sync_all_under(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    sync_dir(path, &st);
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        char child[PATH_MAX];
        struct stat cst;
        if (skip(e->d_name) || path_join(child, path, e->d_name) || lstat(child, &cst) != 0) continue;
        if (S_ISDIR(cst.st_mode)) sync_all_under(child);
        else if (S_ISREG(cst.st_mode)) sync_file(child, &cst);
    }
    closedir(d);
}

static int resolve_roots(const char *dir, const char *shadow) {
    if (!dir || !*dir || !shadow || !*shadow) return -1;
    if (!realpath(dir, dir_root)) return -1;
    mkdirs(shadow);
    if (!realpath(shadow, shadow_root)) return -1;
    dir_len = strlen(dir_root);
    char path[PATH_MAX];
    const char *subs[] = {"blobs", "inodes", "dirs", "tmp"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", shadow_root, subs[i]);
        if (mkdirs(path) != 0) return -1;
    }
    return 0;
}

/* The folder itself is durable (it is where the disk is mounted, in a sense). */
static int record_root(void) {
    struct stat st;
    char id[ID], path[PATH_MAX];
    if (lstat(dir_root, &st) != 0 || id_of(&st, id, sizeof id) != 0) return -1;
    snprintf(path, sizeof path, "%s/root", shadow_root);
    return write_text(path, id);
}

#ifndef POWERCUT_TOOL
/* ---- the shim ----------------------------------------------------------------------- */
#include <dlfcn.h>
#include <pthread.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int active;
static const char *ignore_dirs; /* $POWERCUT_IGNORE_DIRS */
static int log_fd = -1;

static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_syncfs)(int);
static void (*real_sync)(void);
static int (*real_sync_file_range)(int, off64_t, off64_t, unsigned int);
static int (*real_unlink)(const char *);
static int (*real_unlinkat)(int, const char *, int);
static int (*real_rmdir)(const char *);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_renameat2)(int, const char *, int, const char *, unsigned int);

__attribute__((constructor)) static void powercut_init(void) {
    real_fsync = dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
    real_syncfs = dlsym(RTLD_NEXT, "syncfs");
    real_sync = dlsym(RTLD_NEXT, "sync");
    real_sync_file_range = dlsym(RTLD_NEXT, "sync_file_range");
    real_unlink = dlsym(RTLD_NEXT, "unlink");
    real_unlinkat = dlsym(RTLD_NEXT, "unlinkat");
    real_rmdir = dlsym(RTLD_NEXT, "rmdir");
    real_rename = dlsym(RTLD_NEXT, "rename");
    real_renameat = dlsym(RTLD_NEXT, "renameat");
    real_renameat2 = dlsym(RTLD_NEXT, "renameat2");
    if (resolve_roots(getenv("POWERCUT_DIR"), getenv("POWERCUT_SHADOW")) != 0) return;
    ignore_dirs = getenv("POWERCUT_IGNORE_DIRS");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/root", shadow_root);
    if (access(path, F_OK) != 0 && record_root() != 0) return;
    snprintf(path, sizeof path, "%s/calls.log", shadow_root);
    log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    active = 1;
}

/* The path of `fd`, when it is under the folder (and its file was not removed). */
static int path_under_dir(int fd, char *path, size_t size) {
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, size - 1);
    if (n <= 0) return -1;
    path[n] = 0;
    if (strncmp(path, dir_root, dir_len) != 0 || (path[dir_len] != 0 && path[dir_len] != '/')) return -1;
    if (strstr(path, " (deleted)")) return -1;
    return 0;
}

static void log_call(const char *call, const char *path) {
    if (log_fd < 0) return;
    char line[PATH_MAX + 64];
    const char *rel = path[dir_len] ? path + dir_len + 1 : ".";
    int n = snprintf(line, sizeof line, "%s %s\n", call, rel);
    if (n > 0 && n < (int)sizeof line && write(log_fd, line, n) < 0) {
        /* best effort */
    }
}

/* Whether syncs of the folder at `path` are passed over ($POWERCUT_IGNORE_DIRS). */
static int ignored(const char *path) {
    const char *rel = path[dir_len] ? path + dir_len + 1 : "";
    for (const char *p = ignore_dirs; p && *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n && !strncmp(rel, p, n) && (rel[n] == 0 || rel[n] == '/')) return 1;
        p = end ? end + 1 : p + n;
    }
    return 0;
}

/* 1 when handled here (under the folder), 0 to pass through. */
static int shadow_sync(int fd, const char *call) {
    char path[PATH_MAX];
    struct stat st;
    if (!active || path_under_dir(fd, path, sizeof path) != 0 || fstat(fd, &st) != 0) return 0;
    int saved = errno;
    pthread_mutex_lock(&lock);
    if (S_ISDIR(st.st_mode) && ignored(path)) {
        log_call("ignored", path);
    } else {
        log_call(call, path);
        if (S_ISDIR(st.st_mode)) sync_dir(path, &st);
        else if (S_ISREG(st.st_mode)) sync_file(path, &st);
    }
    pthread_mutex_unlock(&lock);
    errno = saved;
    return 1;
}

int fsync(int fd) {
    if (shadow_sync(fd, "fsync")) return 0;
    return real_fsync ? real_fsync(fd) : (int)syscall(SYS_fsync, fd);
}

int fdatasync(int fd) {
    if (shadow_sync(fd, "fdatasync")) return 0;
    return real_fdatasync ? real_fdatasync(fd) : (int)syscall(SYS_fdatasync, fd);
}

static void sync_everything(const char *call) {
    if (!active) return;
    int saved = errno;
    pthread_mutex_lock(&lock);
    log_call(call, dir_root);
    sync_all_under(dir_root);
    pthread_mutex_unlock(&lock);
    errno = saved;
}

int syncfs(int fd) {
    sync_everything("syncfs");
    return real_syncfs ? real_syncfs(fd) : (int)syscall(SYS_syncfs, fd);
}

void sync(void) {
    sync_everything("sync");
    if (real_sync) real_sync();
}

/* Promises nothing about durability (no metadata, no disk cache flush): logged only, so a
 * test notices a program that relies on it. */
int sync_file_range(int fd, off64_t offset, off64_t nbytes, unsigned int flags) {
    char path[PATH_MAX];
    if (active && path_under_dir(fd, path, sizeof path) == 0) {
        pthread_mutex_lock(&lock);
        log_call("sync_file_range", path);
        pthread_mutex_unlock(&lock);
    }
    return real_sync_file_range(fd, offset, nbytes, flags);
}

/* Before `path` (at `dirfd`) is removed or replaced: when that ends its inode (a file's
 * last link, a folder), the inode's shadow identity ends too. Its blob or listing stays:
 * durable names may still point at it until their folder is synced. */
static void forget_inode(int dirfd, const char *path) {
    struct stat st;
    if (!active || fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) != 0) return;
    if (!(S_ISDIR(st.st_mode) || (S_ISREG(st.st_mode) && st.st_nlink == 1))) return;
    char key[PATH_MAX];
    inode_key(key, st.st_dev, st.st_ino);
    int saved = errno;
    pthread_mutex_lock(&lock);
    do_unlink(key);
    pthread_mutex_unlock(&lock);
    errno = saved;
}

int unlink(const char *path) {
    forget_inode(AT_FDCWD, path);
    return real_unlink(path);
}

int unlinkat(int dirfd, const char *path, int flags) {
    forget_inode(dirfd, path);
    return real_unlinkat(dirfd, path, flags);
}

int rmdir(const char *path) {
    forget_inode(AT_FDCWD, path);
    return real_rmdir(path);
}

int rename(const char *from, const char *to) {
    forget_inode(AT_FDCWD, to);
    return real_rename(from, to);
}

int renameat(int fromfd, const char *from, int tofd, const char *to) {
    forget_inode(tofd, to);
    return real_renameat(fromfd, from, tofd, to);
}

int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned int flags) {
    if (!(flags & RENAME_EXCHANGE)) forget_inode(tofd, to);
    return real_renameat2(fromfd, from, tofd, to, flags);
}

#else
/* ---- the tool ----------------------------------------------------------------------- */

static unsigned long long rng;

static unsigned long long next_random(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* blob id → the path of its inode now (for the torn mode), from a walk of the folder. */
struct current {
    char id[ID];
    char path[PATH_MAX];
};
static struct current *currents;
static size_t current_count, current_cap;

static void find_currents(const char *path) {
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        char child[PATH_MAX], key[PATH_MAX], id[ID];
        struct stat st;
        if (skip(e->d_name) || path_join(child, path, e->d_name) || lstat(child, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            find_currents(child);
            continue;
        }
        if (!S_ISREG(st.st_mode)) continue;
        inode_key(key, st.st_dev, st.st_ino);
        if (read_text(key, id, sizeof id) != 0) continue;
        if (current_count == current_cap) {
            current_cap = current_cap ? current_cap * 2 : 64;
            currents = realloc(currents, current_cap * sizeof *currents);
            if (!currents) exit(1);
        }
        snprintf(currents[current_count].id, sizeof currents[current_count].id, "%s", id);
        snprintf(currents[current_count].path, sizeof currents[current_count].path, "%s", child);
        current_count++;
    }
    closedir(d);
}

static const char *current_path(const char *id) {
    for (size_t i = 0; i < current_count; i++)
        if (!strcmp(currents[i].id, id)) return currents[i].path;
    return NULL;
}

static unsigned long long kept_files, kept_bytes, torn_blocks;

static char *read_all(const char *path, off_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    *len = 0;
    if (fd < 0) return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return NULL;
    }
    char *buf = malloc(st.st_size + 1);
    off_t got = 0;
    while (buf && got < st.st_size) {
        ssize_t n = read(fd, buf + got, st.st_size - got);
        if (n <= 0) break;
        got += n;
    }
    close(fd);
    *len = got;
    return buf;
}

static int write_all(const char *path, const char *buf, off_t len) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    off_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, buf + done, len - done);
        if (n <= 0) break;
        done += n;
    }
    close(fd);
    return done == len ? 0 : -1;
}

/* The file a durable name gives after the cut. */
static void restore_file(const char *id, const char *target, int torn) {
    char blob[PATH_MAX + ID];
    snprintf(blob, sizeof blob, "%s/blobs/%s", shadow_root, id);
    off_t synced_len, now_len = 0;
    char *synced = read_all(blob, &synced_len);
    if (!synced) synced = calloc(1, 1);
    const char *now_path = torn ? current_path(id) : NULL;
    char *now = now_path ? read_all(now_path, &now_len) : NULL;
    if (now) {
        off_t len = next_random() & 1 ? now_len : synced_len;
        off_t longest = now_len > synced_len ? now_len : synced_len;
        char *mixed = calloc(1, longest + 1);
        if (!mixed) exit(1);
        for (off_t off = 0; off < longest; off += BLOCK) {
            int from_now = next_random() & 1;
            const char *src = from_now ? now : synced;
            off_t src_len = from_now ? now_len : synced_len;
            off_t n = longest - off < BLOCK ? longest - off : BLOCK;
            if (off < src_len) memcpy(mixed + off, src + off, src_len - off < n ? src_len - off : n);
            int differs = off >= synced_len || off >= now_len || memcmp(now + off, synced + off, n) != 0;
            if (from_now && off < len && differs) torn_blocks++;
        }
        write_all(target, mixed, len);
        kept_bytes += len;
        free(mixed);
        free(now);
    } else {
        write_all(target, synced, synced_len);
        kept_bytes += synced_len;
    }
    kept_files++;
    free(synced);
}

/* Rebuilds the folder whose durable listing is `id` at `out`. */
static int rebuild(const char *id, const char *out, int torn, int depth) {
    char listing[PATH_MAX + ID];
    if (depth > 64 || mkdirs(out) != 0) return -1;
    snprintf(listing, sizeof listing, "%s/dirs/%s", shadow_root, id);
    DIR *d = opendir(listing);
    if (!d) return 0; /* a folder none of whose entries were ever synced */
    struct dirent *e;
    while ((e = readdir(d))) {
        char entry[PATH_MAX], target[PATH_MAX], text[ID + 4];
        if (skip(e->d_name) || path_join(entry, listing, e->d_name) || path_join(target, out, e->d_name)) continue;
        if (read_text(entry, text, sizeof text) != 0 || strlen(text) < 3) continue;
        if (text[0] == 'd') rebuild(text + 2, target, torn, depth + 1);
        else restore_file(text + 2, target, torn);
    }
    closedir(d);
    return 0;
}

static unsigned long long count_files(const char *path, unsigned long long *bytes) {
    unsigned long long n = 0;
    DIR *d = opendir(path);
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char child[PATH_MAX];
        struct stat st;
        if (skip(e->d_name) || path_join(child, path, e->d_name) || lstat(child, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) n += count_files(child, bytes);
        else if (S_ISREG(st.st_mode)) {
            n++;
            *bytes += st.st_size;
        }
    }
    closedir(d);
    return n;
}

static int init(void) {
    char dir[PATH_MAX], shadow[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", dir_root);
    snprintf(shadow, sizeof shadow, "%s", shadow_root);
    /* Everything but the log of calls, which counts over the whole run. */
    DIR *d = opendir(shadow);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            char child[PATH_MAX];
            if (!skip(e->d_name) && strcmp(e->d_name, "calls.log") && path_join(child, shadow, e->d_name) == 0)
                remove_tree(child);
        }
        closedir(d);
    }
    if (resolve_roots(dir, shadow) != 0 || record_root() != 0) return -1;
    sync_all_under(dir_root);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4 || (strcmp(argv[1], "init") && strcmp(argv[1], "cut"))) {
        fprintf(stderr, "usage: powercut init|cut DIR SHADOW [SEED]\n");
        return 2;
    }
    if (resolve_roots(argv[2], argv[3]) != 0) {
        fprintf(stderr, "powercut: cannot use %s or %s: %s\n", argv[2], argv[3], strerror(errno));
        return 1;
    }
    if (!strcmp(argv[1], "init")) return init() == 0 ? 0 : 1;

    char path[PATH_MAX], root[ID], staging[PATH_MAX];
    snprintf(path, sizeof path, "%s/root", shadow_root);
    if (read_text(path, root, sizeof root) != 0) {
        fprintf(stderr, "powercut: %s has no record of %s (run init first)\n", shadow_root, dir_root);
        return 1;
    }
    int torn = argc > 4;
    rng = torn ? strtoull(argv[4], NULL, 10) * 2654435761ULL + 0x9E3779B97F4A7C15ULL : 1;
    unsigned long long before_bytes = 0, before_files = count_files(dir_root, &before_bytes);
    if (torn) find_currents(dir_root);
    snprintf(staging, sizeof staging, "%s/restored", shadow_root);
    remove_tree(staging);
    if (rebuild(root, staging, torn, 0) != 0) {
        fprintf(stderr, "powercut: cannot rebuild %s\n", staging);
        return 1;
    }
    /* The folder itself stays; its contents are replaced by what survived. */
    DIR *d = opendir(dir_root);
    if (!d) return 1;
    struct dirent *e;
    while ((e = readdir(d))) {
        char child[PATH_MAX];
        if (!skip(e->d_name) && path_join(child, dir_root, e->d_name) == 0) remove_tree(child);
    }
    closedir(d);
    d = opendir(staging);
    if (!d) return 1;
    while ((e = readdir(d))) {
        char from[PATH_MAX], to[PATH_MAX];
        if (skip(e->d_name) || path_join(from, staging, e->d_name) || path_join(to, dir_root, e->d_name)) continue;
        if (do_rename(from, to) != 0) {
            fprintf(stderr, "powercut: cannot move %s: %s\n", from, strerror(errno));
            return 1;
        }
    }
    closedir(d);
    printf("powercut: %s cut: %llu of %llu files kept, %llu of %llu bytes", torn ? "torn" : "drop", kept_files,
           before_files, kept_bytes, before_bytes);
    if (torn) printf(", %llu unsynced blocks kept", torn_blocks);
    printf("\n");
    /* What is on disk after the cut is durable. */
    return init() == 0 ? 0 : 1;
}
#endif
