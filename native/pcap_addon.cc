// steth's libpcap addon: a thin N-API shim, no policy.
//
//   Handle.open(opts)     pcap_create -> snaplen/promisc/immediate/buffer/nanosecond
//                         timestamps -> pcap_activate (inside a network namespace when
//                         asked: setns only around socket creation, then back) ->
//                         direction -> nonblocking -> BPF filter. Every error path
//                         closes the pcap_t and frees the bpf_program.
//   Handle.start(cb, eb)  uv_poll on pcap_get_selectable_fd, on the loop thread (no
//                         threads); each readable event drains the ring into one packed
//                         Buffer and calls cb(buffer, count) once.
//   Handle.inject*        send()/sendmmsg() on the handle's packet socket; frames under
//                         60 bytes padded with zeros (iovec, no copy) when asked.
//   Handle.close()        idempotent; inside the batch callback it is deferred until the
//                         callback returns.
//
// Errors are instances of the JS class given to setErrorClass() (PcapError), built
// as new PcapError(message, code, status) with a stable string code.
#include <napi.h>
#include <uv.h>
#include <pcap/pcap.h>

#include <errno.h>
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

  Napi::Value Open(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) {
      Throw(env, "pcap handle is closed", "ECLOSED");
      return env.Undefined();
    }
    if (p_ != nullptr) {
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
    std::string iface = vIface.As<Napi::String>();
    auto num = [&](const char* k, int def) -> int {
      Napi::Value v = o.Get(k);
      return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : def;
    };
    auto flag = [&](const char* k, bool def) -> bool {
      Napi::Value v = o.Get(k);
      return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : def;
    };
    int snaplen = num("snaplen", 1600);
    int bufferSize = num("bufferSize", 4 * 1024 * 1024);
    int timeoutMs = num("timeoutMs", 100);
    bool promisc = flag("promisc", true);
    bool immediate = flag("immediate", true);
    bool nano = flag("nano", true);
    bool injectOnly = flag("injectOnly", false);
    bool optimize = flag("optimize", true);
    std::string netnsPath;
    Napi::Value vNs = o.Get("netnsPath");
    if (vNs.IsString()) netnsPath = vNs.As<Napi::String>();
    std::string direction;
    Napi::Value vDir = o.Get("direction");
    if (vDir.IsString()) direction = vDir.As<Napi::String>();
    bool hasFilter = false;
    std::string filter;
    Napi::Value vFilter = o.Get("filter");
    if (vFilter.IsString()) {
      hasFilter = true;
      filter = vFilter.As<Napi::String>();
    }

    char errbuf[PCAP_ERRBUF_SIZE];
    errbuf[0] = '\0';
    pcap_t* p = pcap_create(iface.c_str(), errbuf);
    if (p == nullptr) {
      Throw(env, iface + ": " + errbuf, "EPCAP");
      return env.Undefined();
    }
    pcap_set_snaplen(p, snaplen);
    pcap_set_promisc(p, promisc ? 1 : 0);
    pcap_set_immediate_mode(p, immediate ? 1 : 0);
    pcap_set_buffer_size(p, bufferSize);
    pcap_set_timeout(p, timeoutMs);
    if (nano) pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);  // refused -> stays micro

    int rc;
    if (netnsPath.empty()) {
      rc = pcap_activate(p);
    } else {
      int target = open(netnsPath.c_str(), O_RDONLY | O_CLOEXEC);
      if (target < 0) {
        int e = errno;
        pcap_close(p);
        Throw(env, ErrnoText(("network namespace " + netnsPath).c_str(), e), e == ENOENT ? "ENOENT" : CodeForErrno(e), e, true);
        return env.Undefined();
      }
      int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
      if (self < 0) {
        int e = errno;
        close(target);
        pcap_close(p);
        Throw(env, ErrnoText("/proc/thread-self/ns/net", e), CodeForErrno(e), e, true);
        return env.Undefined();
      }
      if (setns(target, CLONE_NEWNET) != 0) {
        int e = errno;
        close(target);
        close(self);
        pcap_close(p);
        Throw(env, ErrnoText(("setns " + netnsPath).c_str(), e), CodeForErrno(e), e, true);
        return env.Undefined();
      }
      rc = pcap_activate(p);  // the packet socket is created here, inside the namespace
      if (setns(self, CLONE_NEWNET) != 0) {
        // The loop thread would keep running in the wrong namespace: never continue.
        fprintf(stderr, "steth: cannot return to the original network namespace (%s); aborting\n", strerror(errno));
        abort();
      }
      close(target);
      close(self);
    }

    if (rc < 0) {
      const char* detail = pcap_geterr(p);
      std::string msg = iface + ": " + pcap_statustostr(rc);
      if (detail != nullptr && detail[0] != '\0') msg += std::string(" (") + detail + ")";
      const char* code = CodeForStatus(rc, detail);
      pcap_close(p);
      Throw(env, msg, code, rc, true);
      return env.Undefined();
    }
    std::string warning;
    if (rc > 0) {
      warning = pcap_statustostr(rc);
      const char* detail = pcap_geterr(p);
      if (detail != nullptr && detail[0] != '\0') warning += std::string(": ") + detail;
    }

    if (!direction.empty() && direction != "inout") {
      pcap_direction_t d = direction == "in" ? PCAP_D_IN : PCAP_D_OUT;
      if (direction != "in" && direction != "out") {
        pcap_close(p);
        Throw(env, "direction must be in, out or inout", "EINVAL");
        return env.Undefined();
      }
      if (pcap_setdirection(p, d) != 0) {
        std::string msg = std::string("setdirection: ") + pcap_geterr(p);
        pcap_close(p);
        Throw(env, msg, "EPCAP");
        return env.Undefined();
      }
    }

    if (injectOnly) {
      // Accept nothing in the kernel: an injector never fills its ring.
      struct bpf_insn insns[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
      struct bpf_program none = {1, insns};
      if (pcap_setfilter(p, &none) != 0) {
        std::string msg = std::string("setfilter: ") + pcap_geterr(p);
        pcap_close(p);
        Throw(env, msg, "EPCAP");
        return env.Undefined();
      }
    } else {
      if (pcap_setnonblock(p, 1, errbuf) != 0) {
        std::string msg = std::string("setnonblock: ") + errbuf;
        pcap_close(p);
        Throw(env, msg, "EPCAP");
        return env.Undefined();
      }
      if (hasFilter) {
        std::string err;
        if (!ApplyFilter(p, filter, optimize, &err)) {
          pcap_close(p);
          Throw(env, err, "EFILTER");
          return env.Undefined();
        }
      }
    }

    int fd = pcap_get_selectable_fd(p);
    if (fd < 0) {
      pcap_close(p);
      Throw(env, "pcap_get_selectable_fd: no selectable descriptor", "EPCAP");
      return env.Undefined();
    }
    p_ = p;
    fd_ = fd;
    precision_ = pcap_get_tstamp_precision(p);

    Napi::Object out = Napi::Object::New(env);
    int dlt = pcap_datalink(p);
    out.Set("linkType", Napi::Number::New(env, dlt));
    const char* dltName = pcap_datalink_val_to_name(dlt);
    out.Set("linkTypeName", Napi::String::New(env, dltName != nullptr ? dltName : "UNKNOWN"));
    if (!warning.empty()) out.Set("warning", Napi::String::New(env, warning));
    out.Set("tstampPrecision", Napi::Number::New(env, precision_ == PCAP_TSTAMP_PRECISION_NANO ? 1 : 0));
    out.Set("fd", Napi::Number::New(env, fd));
    return out;
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
    if (p_ != nullptr) {
      pcap_close(p_);
      p_ = nullptr;
      fd_ = -1;
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
    if (closed_) return info.Env().Undefined();
    if (dispatching_) {
      closeRequested_ = true;  // finished by Dispatch once the callback returns
      if (poll_ != nullptr) uv_poll_stop(poll_);
    } else {
      DoClose();
    }
    return info.Env().Undefined();
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
