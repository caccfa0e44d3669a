// steth's libpcap addon: a thin N-API shim, no policy.
//
//   Handle.open(opts)     -> Promise. pcap_create -> snaplen/promisc/immediate/buffer/
//                         nanosecond timestamps -> pcap_activate -> direction ->
//                         nonblocking -> BPF filter, all on a short-lived thread of its own
//                         (inside the network namespace when asked: setns on that thread
//                         only; the loop thread never changes namespace). Every error path
//                         closes the pcap_t and frees the bpf_program.
//   Handle.start(cb, eb)  uv_poll on pcap_get_selectable_fd, on the loop thread; each
//                         readable event drains the ring into one packed Buffer and calls
//                         cb(buffer, count) once.
//   Handle.inject*        send()/sendmmsg() on the handle's packet socket; frames under
//                         60 bytes padded with zeros (iovec, no copy) when asked.
//   Handle.close()        -> Promise (resolved once the kernel released the socket).
//                         Idempotent; stops polling at once (inside the batch callback:
//                         once it returns) and hands the pcap_t to a thread for pcap_close.
//
// Why threads for open and close: creating a packet socket's ring (PACKET_RX_RING) and
// releasing the socket each wait for an RCU grace period in the kernel (synchronize_net:
// measured 15-40 ms here). On the loop thread that stalls every request the agent is
// serving, and N captures cost N grace periods; on threads of their own concurrent waits
// overlap and the loop keeps going. These are the only blocking calls; all packet I/O
// stays on the loop thread (uv_poll).
//
// Errors are instances of the JS class given to setErrorClass() (PcapError), built
// as new PcapError(message, code, status) with a stable string code.
#include <napi.h>
#include <uv.h>
#include <pcap/pcap.h>

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace {

struct AddonData {
  Napi::FunctionReference errorClass;
};

// Build (not throw) a PcapError value.
Napi::Value MakeError(Napi::Env env, const std::string& message, const char* code, int status, bool hasStatus) {
  AddonData* data = env.GetInstanceData<AddonData>();
  if (data != nullptr && !data->errorClass.IsEmpty()) {
    std::vector<napi_value> args{Napi::String::New(env, message), Napi::String::New(env, code)};
    if (hasStatus) args.push_back(Napi::Number::New(env, status));
    Napi::Object err = data->errorClass.New(args);
    if (!env.IsExceptionPending()) return err;
    env.GetAndClearPendingException();
  }
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  if (hasStatus) err.Set("pcapStatus", Napi::Number::New(env, status));
  return err.Value();
}

void Throw(Napi::Env env, const std::string& message, const char* code, int status = 0, bool hasStatus = false) {
  Napi::Value err = MakeError(env, message, code, status, hasStatus);
  napi_throw(env, err);
}

const char* CodeForStatus(int status, const char* msg) {
  switch (status) {
    case PCAP_ERROR_NO_SUCH_DEVICE:
      return "ENODEV";
    case PCAP_ERROR_PERM_DENIED:
    case PCAP_ERROR_PROMISC_PERM_DENIED:
      return "EPERM";
    case PCAP_ERROR_IFACE_NOT_UP:
      return "ENETDOWN";
    default:
      break;
  }
  if (msg != nullptr) {
    if (strstr(msg, "went down") != nullptr || strstr(msg, "not up") != nullptr) return "ENETDOWN";
    if (strstr(msg, "disappeared") != nullptr || strstr(msg, "No such device") != nullptr) return "ENODEV";
    if (strstr(msg, "Operation not permitted") != nullptr || strstr(msg, "ermission denied") != nullptr) return "EPERM";
  }
  return "EPCAP";
}

const char* CodeForErrno(int e) {
  switch (e) {
    case EMSGSIZE:
      return "EMSGSIZE";
    case ENETDOWN:
    case ENXIO:
      return "ENETDOWN";
    case ENODEV:
      return "ENODEV";
    case EPERM:
    case EACCES:
      return "EPERM";
    case ENOENT:
      return "ENOENT";
    case EBADF:
      return "ECLOSED";
    default:
      return "EPCAP";
  }
}

std::string ErrnoText(const char* what, int e) {
  return std::string(what) + ": " + strerror(e);
}

// Start a detached thread running fn(arg); false when the system has none to give.
bool SpawnDetached(void* (*fn)(void*), void* arg) {
  pthread_t t;
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) != 0) return false;
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  int rc = pthread_create(&t, &attr, fn, arg);
  pthread_attr_destroy(&attr);
  return rc == 0;
}

const uint8_t kZeros[64] = {0};
constexpr size_t kMinFrame = 60;
constexpr size_t kRecordHeader = 16;
constexpr size_t kMaxBatchBytes = 8 * 1024 * 1024;
constexpr uint32_t kMaxBatchFrames = 65536;

class Handle : public Napi::ObjectWrap<Handle> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Handle",
                       {
                           InstanceMethod<&Handle::Open>("open"),
                           InstanceMethod<&Handle::SetFilter>("setFilter"),
                           InstanceMethod<&Handle::Start>("start"),
                           InstanceMethod<&Handle::Inject>("inject"),
                           InstanceMethod<&Handle::InjectBatch>("injectBatch"),
                           InstanceMethod<&Handle::Stats>("stats"),
                           InstanceMethod<&Handle::RefPoll>("ref"),
                           InstanceMethod<&Handle::UnrefPoll>("unref"),
                           InstanceMethod<&Handle::Close>("close"),
                           InstanceAccessor<&Handle::IsClosed>("closed"),
                       });
  }

  explicit Handle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Handle>(info) {}

  ~Handle() override {
    // Only reached when not polling (a started handle holds a reference to itself).
    if (poll_ != nullptr) StopPoll();
    if (p_ != nullptr) {
      pcap_close(p_);
      p_ = nullptr;
    }
    delete asyncContext_;
    asyncContext_ = nullptr;
    delete closeDone_;
    closeDone_ = nullptr;
  }

 private:
  pcap_t* p_ = nullptr;
  int fd_ = -1;
  int precision_ = PCAP_TSTAMP_PRECISION_MICRO;
  uv_poll_t* poll_ = nullptr;
  bool started_ = false;
  bool dispatching_ = false;
  bool closeRequested_ = false;
  bool closed_ = false;
  bool opening_ = false;
  // close() -> this promise (the same one every time); its deferred goes to the release
  Napi::Reference<Napi::Promise> closedPromise_;
  Napi::Promise::Deferred* closeDone_ = nullptr;
  bool refd_ = false;
  bool selfRef_ = false;
  Napi::FunctionReference onBatch_;
  Napi::FunctionReference onError_;
  Napi::AsyncContext* asyncContext_ = nullptr;
  std::vector<uint8_t> buf_;
  uint32_t count_ = 0;

  bool CheckOpen(Napi::Env env) {
    if (closed_ || closeRequested_) {
      Throw(env, "pcap handle is closed", "ECLOSED");
      return false;
    }
    if (p_ == nullptr) {
      Throw(env, "pcap handle is not open", "ECLOSED");
      return false;
    }
    return true;
  }

  // --- open -------------------------------------------------------------------------

  // Everything an open needs and produces. Filled from JS on the loop thread, worked on
  // by the open thread (no N-API there), finished on the loop thread in OpenDone.
  struct OpenJob;
  // On the loop thread, once the open thread is done (or at env teardown: env == nullptr).
  static void OpenDone(Napi::Env env, Napi::Function, std::nullptr_t*, OpenJob* j) {
    if (env == nullptr) {  // the environment is going away: nobody to tell
      if (j->p != nullptr) pcap_close(j->p);
      j->keep.SuppressDestruct();
      delete j;
      return;
    }
    Napi::HandleScope scope(env);
    Handle* h = j->handle;
    h->opening_ = false;
    if (h->closed_ || h->closeRequested_) {
      // closed while opening: give the socket back at once; close()'s promise waits for it
      Napi::Promise::Deferred* done = h->closeDone_;
      h->closeDone_ = nullptr;
      if (j->p != nullptr) {
        ReleaseAsync(env, j->p, done);
        j->p = nullptr;
      } else if (done != nullptr) {
        done->Resolve(env.Undefined());
        delete done;
      }
      if (j->errCode == nullptr) j->Fail("pcap handle was closed while opening", "ECLOSED");
    }
    if (j->p == nullptr) {
      j->deferred.Reject(MakeError(env, j->errMsg, j->errCode != nullptr ? j->errCode : "EPCAP", j->errStatus, j->hasStatus));
    } else {
      h->p_ = j->p;
      h->fd_ = j->fd;
      h->precision_ = j->precision;
      Napi::Object out = Napi::Object::New(env);
      out.Set("linkType", Napi::Number::New(env, j->linkType));
      const char* dltName = pcap_datalink_val_to_name(j->linkType);
      out.Set("linkTypeName", Napi::String::New(env, dltName != nullptr ? dltName : "UNKNOWN"));
      if (!j->warning.empty()) out.Set("warning", Napi::String::New(env, j->warning));
      out.Set("tstampPrecision", Napi::Number::New(env, j->precision == PCAP_TSTAMP_PRECISION_NANO ? 1 : 0));
      out.Set("fd", Napi::Number::New(env, j->fd));
      j->deferred.Resolve(out);
    }
    delete j;  // drops the reference that kept the JS Handle alive
  }

  using OpenTsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, OpenJob, OpenDone>;

  struct OpenJob {
    std::string iface, netnsPath, direction, filter;
    bool hasFilter = false;
    int snaplen = 1600, bufferSize = 4 * 1024 * 1024, timeoutMs = 100;
    bool promisc = true, immediate = true, nano = true, injectOnly = false, optimize = true;
    // result
    pcap_t* p = nullptr;
    int fd = -1;
    int precision = PCAP_TSTAMP_PRECISION_MICRO;
    int linkType = 0;
    std::string warning;
    std::string errMsg;
    const char* errCode = nullptr;
    int errStatus = 0;
    bool hasStatus = false;
    // loop-thread side
    Handle* handle = nullptr;
    Napi::ObjectReference keep;  // the JS Handle stays alive while its open is in flight
    Napi::Promise::Deferred deferred;
    OpenTsfn tsfn;
    explicit OpenJob(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}

    void Fail(const std::string& msg, const char* code) { errMsg = msg, errCode = code; }
    void Fail(const std::string& msg, const char* code, int status) { errMsg = msg, errCode = code, errStatus = status, hasStatus = true; }
    void FailAndClose(const std::string& msg, const char* code) {
      Fail(msg, code);
      pcap_close(p);
      p = nullptr;
    }
  };

  // On the open thread. Leaves j->p set (ready: activated, nonblocking, filtered) or an error.
  static void RunOpen(OpenJob* j) {
    char errbuf[PCAP_ERRBUF_SIZE];
    errbuf[0] = '\0';
    if (!j->netnsPath.empty()) {
      // This thread is ours alone and ends after the open: it enters the namespace and
      // never needs to come back. The socket stays bound to the namespace it was made in.
      int target = open(j->netnsPath.c_str(), O_RDONLY | O_CLOEXEC);
      if (target < 0) {
        int e = errno;
        j->Fail(ErrnoText(("network namespace " + j->netnsPath).c_str(), e), e == ENOENT ? "ENOENT" : CodeForErrno(e), e);
        return;
      }
      int rc = setns(target, CLONE_NEWNET);
      int e = errno;
      close(target);
      if (rc != 0) {
        j->Fail(ErrnoText(("setns " + j->netnsPath).c_str(), e), CodeForErrno(e), e);
        return;
      }
    }
    pcap_t* p = pcap_create(j->iface.c_str(), errbuf);
    if (p == nullptr) {
      j->Fail(j->iface + ": " + errbuf, "EPCAP");
      return;
    }
    j->p = p;
    pcap_set_snaplen(p, j->snaplen);
    pcap_set_promisc(p, j->promisc ? 1 : 0);
    pcap_set_immediate_mode(p, j->immediate ? 1 : 0);
    pcap_set_buffer_size(p, j->bufferSize);
    pcap_set_timeout(p, j->timeoutMs);
    if (j->nano) pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);  // refused -> stays micro

    int rc = pcap_activate(p);  // the packet socket and its ring are created here
    if (rc < 0) {
      const char* detail = pcap_geterr(p);
      std::string msg = j->iface + ": " + pcap_statustostr(rc);
      if (detail != nullptr && detail[0] != '\0') msg += std::string(" (") + detail + ")";
      j->Fail(msg, CodeForStatus(rc, detail), rc);
      pcap_close(p);
      j->p = nullptr;
      return;
    }
    if (rc > 0) {
      j->warning = pcap_statustostr(rc);
      const char* detail = pcap_geterr(p);
      if (detail != nullptr && detail[0] != '\0') j->warning += std::string(": ") + detail;
    }

    if (!j->direction.empty() && j->direction != "inout") {
      if (j->direction != "in" && j->direction != "out") return j->FailAndClose("direction must be in, out or inout", "EINVAL");
      if (pcap_setdirection(p, j->direction == "in" ? PCAP_D_IN : PCAP_D_OUT) != 0) return j->FailAndClose(std::string("setdirection: ") + pcap_geterr(p), "EPCAP");
    }

    if (j->injectOnly) {
      // Accept nothing in the kernel: an injector never fills its ring.
      struct bpf_insn insns[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
      struct bpf_program none = {1, insns};
      if (pcap_setfilter(p, &none) != 0) return j->FailAndClose(std::string("setfilter: ") + pcap_geterr(p), "EPCAP");
    } else {
      if (pcap_setnonblock(p, 1, errbuf) != 0) return j->FailAndClose(std::string("setnonblock: ") + errbuf, "EPCAP");
      if (j->hasFilter) {
        std::string err;
        if (!ApplyFilter(p, j->filter, j->optimize, &err)) return j->FailAndClose(err, "EFILTER");
      }
    }

    int fd = pcap_get_selectable_fd(p);
    if (fd < 0) return j->FailAndClose("pcap_get_selectable_fd: no selectable descriptor", "EPCAP");
    j->fd = fd;
    j->precision = pcap_get_tstamp_precision(p);
    j->linkType = pcap_datalink(p);
  }

  Napi::Value Open(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_ || closeRequested_) {
      Throw(env, "pcap handle is closed", "ECLOSED");
      return env.Undefined();
    }
    if (p_ != nullptr || opening_) {
      Throw(env, "pcap handle is already open", "EINVAL");
      return env.Undefined();
    }
    if (info.Length() < 1 || !info[0].IsObject()) {
      Throw(env, "open(options) needs an options object", "EINVAL");
      return env.Undefined();
    }
    Napi::Object o = info[0].As<Napi::Object>();
    Napi::Value vIface = o.Get("iface");
    if (!vIface.IsString()) {
      Throw(env, "options.iface must be a string", "EINVAL");
      return env.Undefined();
    }
    auto num = [&](const char* k, int def) -> int {
      Napi::Value v = o.Get(k);
      return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : def;
    };
    auto flag = [&](const char* k, bool def) -> bool {
      Napi::Value v = o.Get(k);
      return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : def;
    };
    auto str = [&](const char* k, std::string* out) -> bool {
      Napi::Value v = o.Get(k);
      if (!v.IsString()) return false;
      *out = v.As<Napi::String>().Utf8Value();
      return true;
    };
    OpenJob* j = new OpenJob(env);
    j->iface = vIface.As<Napi::String>().Utf8Value();
    j->snaplen = num("snaplen", j->snaplen);
    j->bufferSize = num("bufferSize", j->bufferSize);
    j->timeoutMs = num("timeoutMs", j->timeoutMs);
    j->promisc = flag("promisc", j->promisc);
    j->immediate = flag("immediate", j->immediate);
    j->nano = flag("nano", j->nano);
    j->injectOnly = flag("injectOnly", j->injectOnly);
    j->optimize = flag("optimize", j->optimize);
    str("netnsPath", &j->netnsPath);
    str("direction", &j->direction);
    j->hasFilter = str("filter", &j->filter);
    j->handle = this;
    j->keep = Napi::Persistent(Value());
    Napi::Promise promise = j->deferred.Promise();

    j->tsfn = OpenTsfn::New(env, "steth:pcap-open", 0, 1);
    opening_ = true;
    if (!SpawnDetached(OpenThread, j)) {
      opening_ = false;
      j->tsfn.Release();
      delete j;
      Throw(env, "cannot start a thread to open the capture", "EPCAP");
      return env.Undefined();
    }
    return promise;
  }

  static void* OpenThread(void* arg) {
    OpenJob* j = static_cast<OpenJob*>(arg);
    OpenTsfn tsfn = j->tsfn;
    RunOpen(j);
    if (tsfn.BlockingCall(j) != napi_ok) {  // only at teardown: the loop is gone
      if (j->p != nullptr) pcap_close(j->p);
    }
    tsfn.Release();
    return nullptr;
  }

  // Hand a pcap_t to a thread of its own for pcap_close (the kernel's release waits for an
  // RCU grace period). `done` (may be null) is resolved once the socket is gone.
  struct ReleaseJob;
  static void ReleaseDone(Napi::Env env, Napi::Function, std::nullptr_t*, ReleaseJob* r) {
    if (env != nullptr && r->done != nullptr) {
      Napi::HandleScope scope(env);
      r->done->Resolve(env.Undefined());
    }
    delete r->done;
    delete r;
  }
  using ReleaseTsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, ReleaseJob, ReleaseDone>;
  struct ReleaseJob {
    pcap_t* p;
    Napi::Promise::Deferred* done;
    ReleaseTsfn tsfn;
  };
  static void ReleaseAsync(Napi::Env env, pcap_t* p, Napi::Promise::Deferred* done) {
    // Ref'd: whoever awaits close() keeps the loop alive until the kernel let go; a process
    // exiting by itself waits for its releases (one grace period, tens of ms).
    ReleaseJob* r = new ReleaseJob{p, done, ReleaseTsfn::New(env, "steth:pcap-release", 0, 1)};
    if (!SpawnDetached(ReleaseThread, r)) {
      r->tsfn.Release();
      pcap_close(p);  // no thread to be had: release here, blocking
      if (done != nullptr) done->Resolve(env.Undefined());
      delete done;
      delete r;
    }
  }

  static void* ReleaseThread(void* arg) {
    ReleaseJob* r = static_cast<ReleaseJob*>(arg);
    ReleaseTsfn tsfn = r->tsfn;
    pcap_close(r->p);
    if (tsfn.BlockingCall(r) != napi_ok) {
      // teardown: the loop is gone, and so is whoever waited
    }
    tsfn.Release();
    return nullptr;
  }

  static bool ApplyFilter(pcap_t* p, const std::string& text, bool optimize, std::string* err) {
    struct bpf_program prog;
    if (pcap_compile(p, &prog, text.c_str(), optimize ? 1 : 0, PCAP_NETMASK_UNKNOWN) != 0) {
      *err = std::string("bad filter: ") + pcap_geterr(p);
      return false;
    }
    int rc = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
      *err = std::string("setfilter: ") + pcap_geterr(p);
      return false;
    }
    return true;
  }

  Napi::Value SetFilter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    if (info.Length() < 1 || !info[0].IsString()) {
      Throw(env, "setFilter(text, optimize) needs a string", "EINVAL");
      return env.Undefined();
    }
    bool optimize = info.Length() < 2 || info[1].ToBoolean().Value();
    std::string err;
    if (!ApplyFilter(p_, info[0].As<Napi::String>(), optimize, &err)) Throw(env, err, "EFILTER");
    return env.Undefined();
  }

  // --- capture ----------------------------------------------------------------------

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    if (started_) {
      Throw(env, "capture already started", "EINVAL");
      return env.Undefined();
    }
    if (info.Length() < 2 || !info[0].IsFunction() || !info[1].IsFunction()) {
      Throw(env, "start(onBatch, onError) needs two functions", "EINVAL");
      return env.Undefined();
    }
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      Throw(env, "no event loop", "EPCAP");
      return env.Undefined();
    }
    poll_ = new uv_poll_t;
    int rc = uv_poll_init(loop, poll_, fd_);
    if (rc != 0) {
      delete poll_;
      poll_ = nullptr;
      Throw(env, std::string("uv_poll_init: ") + uv_strerror(rc), "EPCAP");
      return env.Undefined();
    }
    poll_->data = this;
    rc = uv_poll_start(poll_, UV_READABLE, OnPoll);
    if (rc != 0) {
      StopPoll();
      Throw(env, std::string("uv_poll_start: ") + uv_strerror(rc), "EPCAP");
      return env.Undefined();
    }
    if (!refd_) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    onBatch_ = Napi::Persistent(info[0].As<Napi::Function>());
    onError_ = Napi::Persistent(info[1].As<Napi::Function>());
    asyncContext_ = new Napi::AsyncContext(env, "steth:pcap");
    started_ = true;
    Ref();  // the poll callback uses this object: keep it alive until close
    selfRef_ = true;
    return env.Undefined();
  }

  void StopPoll() {
    if (poll_ == nullptr) return;
    uv_poll_stop(poll_);
    poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
  }

  static void OnPacket(u_char* user, const struct pcap_pkthdr* h, const u_char* bytes) {
    Handle* self = reinterpret_cast<Handle*>(user);
    uint64_t sub = static_cast<uint64_t>(h->ts.tv_usec);
    if (self->precision_ != PCAP_TSTAMP_PRECISION_NANO) sub *= 1000;
    uint64_t ts = static_cast<uint64_t>(h->ts.tv_sec) * 1000000000ULL + sub;
    uint32_t caplen = h->caplen;
    uint32_t len = h->len;
    size_t off = self->buf_.size();
    self->buf_.resize(off + kRecordHeader + caplen);
    uint8_t* dst = self->buf_.data() + off;
    for (int i = 0; i < 8; i++) dst[i] = static_cast<uint8_t>(ts >> (8 * i));
    for (int i = 0; i < 4; i++) dst[8 + i] = static_cast<uint8_t>(caplen >> (8 * i));
    for (int i = 0; i < 4; i++) dst[12 + i] = static_cast<uint8_t>(len >> (8 * i));
    memcpy(dst + kRecordHeader, bytes, caplen);
    self->count_++;
  }

  static void OnPoll(uv_poll_t* h, int status, int /*events*/) {
    Handle* self = reinterpret_cast<Handle*>(h->data);
    if (self == nullptr || self->p_ == nullptr || self->closeRequested_) return;
    self->Dispatch(status);
  }

  void CallJs(Napi::FunctionReference& fn, const std::vector<napi_value>& args) {
    Napi::Env env = Env();
    fn.MakeCallback(Value(), args, *asyncContext_);
    if (env.IsExceptionPending()) {
      Napi::Error e = env.GetAndClearPendingException();
      napi_fatal_exception(env, e.Value());  // -> process 'uncaughtException', like any callback
    }
  }

  void Dispatch(int status) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    std::string errMsg;
    const char* errCode = nullptr;
    int errStatus = 0;
    dispatching_ = true;
    buf_.clear();
    count_ = 0;
    if (status < 0) {
      errMsg = std::string("poll: ") + uv_strerror(status);
      errCode = "EPCAP";
      errStatus = status;
    } else {
      for (;;) {
        int n = pcap_dispatch(p_, -1, OnPacket, reinterpret_cast<u_char*>(this));
        if (n < 0) {
          if (n == PCAP_ERROR_BREAK) break;
          const char* detail = pcap_geterr(p_);
          errMsg = detail != nullptr ? detail : "pcap_dispatch failed";
          errCode = CodeForStatus(n, detail);
          errStatus = n;
          break;
        }
        if (n == 0 || count_ >= kMaxBatchFrames || buf_.size() >= kMaxBatchBytes) break;
      }
    }
    if (count_ > 0) {
      Napi::Buffer<uint8_t> b = Napi::Buffer<uint8_t>::Copy(env, buf_.data(), buf_.size());
      CallJs(onBatch_, {b, Napi::Number::New(env, count_)});
    }
    if (buf_.capacity() > kMaxBatchBytes * 2) std::vector<uint8_t>().swap(buf_);
    if (errCode != nullptr && !closeRequested_ && !closed_) {
      if (poll_ != nullptr) uv_poll_stop(poll_);  // a dead socket stays readable: stop spinning
      Napi::Value err = MakeError(env, errMsg, errCode, errStatus, true);
      CallJs(onError_, {err});
    }
    dispatching_ = false;
    if (closeRequested_) DoClose();
  }

  // --- inject -----------------------------------------------------------------------

  static bool FrameArg(Napi::Value v, const uint8_t** data, size_t* len) {
    if (!v.IsTypedArray()) return false;
    Napi::TypedArray ta = v.As<Napi::TypedArray>();
    if (ta.TypedArrayType() != napi_uint8_array) return false;
    Napi::Uint8Array u = ta.As<Napi::Uint8Array>();
    *data = u.Data();
    *len = u.ByteLength();
    return true;
  }

  Napi::Value Inject(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    const uint8_t* data;
    size_t len;
    if (info.Length() < 1 || !FrameArg(info[0], &data, &len)) {
      Throw(env, "inject(frame) needs a Uint8Array", "EINVAL");
      return env.Undefined();
    }
    bool pad = info.Length() >= 2 && info[1].ToBoolean().Value();
    struct iovec iov[2];
    int iovcnt = 1;
    iov[0].iov_base = const_cast<uint8_t*>(data);
    iov[0].iov_len = len;
    if (pad && len < kMinFrame) {
      iov[1].iov_base = const_cast<uint8_t*>(kZeros);
      iov[1].iov_len = kMinFrame - len;
      iovcnt = 2;
    }
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = iov;
    msg.msg_iovlen = iovcnt;
    ssize_t n;
    int tries = 0;
    for (;;) {
      n = sendmsg(fd_, &msg, 0);
      if (n >= 0) break;
      int e = errno;
      if ((e == ENOBUFS || e == EAGAIN || e == EINTR) && tries++ < 10000) {
        sched_yield();
        continue;
      }
      Throw(env, ErrnoText("send", e), CodeForErrno(e), e, true);
      return env.Undefined();
    }
    return Napi::Number::New(env, static_cast<double>(n));
  }

  Napi::Value InjectBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    if (info.Length() < 1 || !info[0].IsArray()) {
      Throw(env, "injectBatch(frames) needs an array of Uint8Array", "EINVAL");
      return env.Undefined();
    }
    Napi::Array arr = info[0].As<Napi::Array>();
    bool pad = info.Length() >= 2 && info[1].ToBoolean().Value();
    uint32_t total = arr.Length();
    constexpr uint32_t kChunk = 512;
    std::vector<struct mmsghdr> msgs(kChunk);
    std::vector<struct iovec> iovs(kChunk * 2);
    uint32_t sent = 0;
    int tries = 0;
    while (sent < total) {
      uint32_t k = total - sent < kChunk ? total - sent : kChunk;
      for (uint32_t i = 0; i < k; i++) {
        const uint8_t* data;
        size_t len;
        if (!FrameArg(arr.Get(sent + i), &data, &len)) {
          Napi::Value err = MakeError(env, "frame " + std::to_string(sent + i) + " is not a Uint8Array", "EINVAL", 0, false);
          if (sent > 0 && err.IsObject()) err.As<Napi::Object>().Set("sent", Napi::Number::New(env, sent));
          napi_throw(env, err);
          return env.Undefined();
        }
        struct iovec* iov = &iovs[i * 2];
        iov[0].iov_base = const_cast<uint8_t*>(data);
        iov[0].iov_len = len;
        int iovcnt = 1;
        if (pad && len < kMinFrame) {
          iov[1].iov_base = const_cast<uint8_t*>(kZeros);
          iov[1].iov_len = kMinFrame - len;
          iovcnt = 2;
        }
        memset(&msgs[i], 0, sizeof(struct mmsghdr));
        msgs[i].msg_hdr.msg_iov = iov;
        msgs[i].msg_hdr.msg_iovlen = iovcnt;
      }
      int n = sendmmsg(fd_, msgs.data(), k, 0);
      if (n < 0) {
        int e = errno;
        if ((e == ENOBUFS || e == EAGAIN || e == EINTR) && tries++ < 10000) {
          sched_yield();
          continue;
        }
        Napi::Value err = MakeError(env, ErrnoText("sendmmsg", e) + " (frame " + std::to_string(sent) + ")", CodeForErrno(e), e, true);
        if (err.IsObject()) err.As<Napi::Object>().Set("sent", Napi::Number::New(env, sent));
        napi_throw(env, err);
        return env.Undefined();
      }
      sent += static_cast<uint32_t>(n);
    }
    return Napi::Number::New(env, sent);
  }

  // --- misc -------------------------------------------------------------------------

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    struct pcap_stat st;
    memset(&st, 0, sizeof st);
    if (pcap_stats(p_, &st) != 0) {
      Throw(env, std::string("stats: ") + pcap_geterr(p_), "EPCAP");
      return env.Undefined();
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("recv", Napi::Number::New(env, st.ps_recv));
    o.Set("drop", Napi::Number::New(env, st.ps_drop));
    o.Set("ifdrop", Napi::Number::New(env, st.ps_ifdrop));
    return o;
  }

  Napi::Value RefPoll(const Napi::CallbackInfo& info) {
    refd_ = true;
    if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value UnrefPoll(const Napi::CallbackInfo& info) {
    refd_ = false;
    if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  void DoClose() {
    if (closed_) return;
    closed_ = true;
    closeRequested_ = false;
    StopPoll();
    Napi::Promise::Deferred* done = closeDone_;
    closeDone_ = nullptr;
    if (p_ != nullptr) {
      ReleaseAsync(Env(), p_, done);  // resolves `done` once the kernel let go
      p_ = nullptr;
      fd_ = -1;
    } else if (done != nullptr && !opening_) {
      done->Resolve(Env().Undefined());
      delete done;
    } else if (done != nullptr) {
      closeDone_ = done;  // an open is in flight: OpenDone releases what it made
    }
    onBatch_.Reset();
    onError_.Reset();
    delete asyncContext_;
    asyncContext_ = nullptr;
    std::vector<uint8_t>().swap(buf_);
    if (selfRef_) {
      selfRef_ = false;
      Unref();
    }
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!closedPromise_.IsEmpty()) return closedPromise_.Value();
    closeDone_ = new Napi::Promise::Deferred(env);
    Napi::Promise promise = closeDone_->Promise();
    closedPromise_ = Napi::Persistent(promise);
    if (dispatching_) {
      closeRequested_ = true;  // finished by Dispatch once the callback returns
      if (poll_ != nullptr) uv_poll_stop(poll_);
    } else {
      DoClose();
    }
    return promise;
  }

  Napi::Value IsClosed(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), closed_ || closeRequested_);
  }
};

Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) {
    Napi::TypeError::New(env, "setErrorClass(cls) needs a constructor").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  AddonData* data = env.GetInstanceData<AddonData>();
  data->errorClass = Napi::Persistent(info[0].As<Napi::Function>());
  return env.Undefined();
}

Napi::Value LibVersion(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), pcap_lib_version());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData());
  exports.Set("Handle", Handle::Init(env));
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass, "setErrorClass"));
  exports.Set("libVersion", Napi::Function::New(env, LibVersion, "libVersion"));
  return exports;
}

}  // namespace

NODE_API_MODULE(steth_pcap, Init)
