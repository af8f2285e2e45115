#include "http2/client_session.hpp"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <iterator>

namespace dcp::http2 {
namespace {

nghttp2_nv header(std::string_view name, std::string_view value, bool copy_value = false) {
    // Names and most values live as long as the session (its Target) or the program.
    return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
            reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
            value.size(),
            static_cast<std::uint8_t>(NGHTTP2_NV_FLAG_NO_COPY_NAME |
                                      (copy_value ? 0 : NGHTTP2_NV_FLAG_NO_COPY_VALUE))};
}

std::string failure(long code) {
    return "HTTP/2 error: " + std::string(nghttp2_strerror(static_cast<int>(code)));
}

}  // namespace

void Exchange::reset_response() {
    response.clear();
    status = 0;
    type_ok = false;
    headers = false;
    overflow = false;
    id_ = -1;
    sent_ = 0;
}

std::string_view error_name(std::uint32_t code) {
    return nghttp2_http2_strerror(code);
}

// nghttp2's C callbacks, with the session as user data and each exchange as its stream's.
struct ClientSession::Callbacks {
    static Exchange* exchange_of(nghttp2_session* session, std::int32_t id) {
        return static_cast<Exchange*>(nghttp2_session_get_stream_user_data(session, id));
    }

    static ssize_t read_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                             std::uint32_t* flags, nghttp2_data_source* source, void*) {
        auto* e = static_cast<Exchange*>(source->ptr);
        const std::size_t n = std::min(length, e->body.size() - e->sent_);
        std::memcpy(buf, e->body.data() + e->sent_, n);
        e->sent_ += n;
        if (e->sent_ == e->body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
        return static_cast<ssize_t>(n);
    }

    static int on_header(nghttp2_session* session, const nghttp2_frame* frame,
                         const std::uint8_t* name, std::size_t namelen, const std::uint8_t* value,
                         std::size_t valuelen, std::uint8_t, void* user) {
        if (frame->hd.type != NGHTTP2_HEADERS) return 0;
        Exchange* e = exchange_of(session, frame->hd.stream_id);
        if (e == nullptr) return 0;
        const auto& target = static_cast<ClientSession*>(user)->target_;
        const std::string_view n(reinterpret_cast<const char*>(name), namelen);
        const std::string_view v(reinterpret_cast<const char*>(value), valuelen);
        e->headers = true;
        if (n == ":status") {
            int status = 0;
            std::from_chars(v.data(), v.data() + v.size(), status);
            e->status = status;
        } else if (n == "content-type") {
            e->type_ok = target.accepts != nullptr ? target.accepts(v) : v == target.content_type;
        }
        return 0;
    }

    static int on_data(nghttp2_session* session, std::uint8_t, std::int32_t id,
                       const std::uint8_t* data, std::size_t len, void* user) {
        Exchange* e = exchange_of(session, id);
        if (e == nullptr) return 0;
        if (e->response.size() + len > static_cast<ClientSession*>(user)->target_.max_response) {
            e->overflow = true;
            return 0;
        }
        e->response.insert(e->response.end(), data, data + len);
        return 0;
    }

    static int on_stream_close(nghttp2_session* session, std::int32_t id, std::uint32_t error,
                               void* user) {
        Exchange* e = exchange_of(session, id);
        if (e == nullptr) return 0;
        static_cast<ClientSession*>(user)->events_.on_closed(*e, error);
        return 0;
    }

    static int on_frame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
        if (frame->hd.type == NGHTTP2_GOAWAY) {
            static_cast<ClientSession*>(user)->events_.on_goaway(frame->goaway.last_stream_id);
        }
        return 0;
    }
};

ClientSession::ClientSession(Events& events, const Target& target)
    : events_(events), target_(target) {}

ClientSession::~ClientSession() {
    if (h2_ != nullptr) nghttp2_session_del(h2_);
}

dcp::Result<void, std::string> ClientSession::start(std::int32_t window) {
    nghttp2_session_callbacks* cbs = nullptr;
    if (nghttp2_session_callbacks_new(&cbs) != 0) return Unexpected(std::string("out of memory"));
    nghttp2_session_callbacks_set_on_header_callback(cbs, &Callbacks::on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &Callbacks::on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &Callbacks::on_stream_close);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &Callbacks::on_frame);
    const int rv = nghttp2_session_client_new(&h2_, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    if (rv != 0) return Unexpected("cannot start HTTP/2: " + std::string(nghttp2_strerror(rv)));
    const nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
    nghttp2_submit_settings(h2_, NGHTTP2_FLAG_NONE, settings, 1);
    nghttp2_session_set_local_window_size(h2_, NGHTTP2_FLAG_NONE, 0, window);
    return {};
}

bool ClientSession::submit(Exchange& e) {
    const auto [end, ec] =
        std::to_chars(e.length_.data(), e.length_.data() + e.length_.size(), e.body.size());
    e.length_size_ = ec == std::errc() ? static_cast<std::size_t>(end - e.length_.data()) : 0;
    const nghttp2_nv nva[] = {
        header(":method", "POST"),
        header(":scheme", "https"),
        header(":authority", target_.authority),
        header(":path", target_.path),
        header("accept", target_.content_type),
        header("content-type", target_.content_type),
        header("content-length", std::string_view(e.length_.data(), e.length_size_), true),
    };
    nghttp2_data_provider body{};
    body.source.ptr = &e;
    body.read_callback = &Callbacks::read_body;
    e.sent_ = 0;
    const std::int32_t id = nghttp2_submit_request(h2_, nullptr, nva, std::size(nva), &body, &e);
    if (id < 0) return false;
    e.id_ = id;
    return true;
}

void ClientSession::cancel(Exchange& e) {
    if (e.id_ >= 0) nghttp2_submit_rst_stream(h2_, NGHTTP2_FLAG_NONE, e.id_, NGHTTP2_CANCEL);
}

dcp::Result<void, std::string> ClientSession::receive(std::span<const std::uint8_t> bytes) {
    const auto rv = nghttp2_session_mem_recv(h2_, bytes.data(), bytes.size());
    if (rv < 0) return Unexpected(failure(rv));
    return {};
}

dcp::Result<void, std::string> ClientSession::send_into(std::vector<std::uint8_t>& out,
                                                        std::size_t limit) {
    while (out.size() < limit) {
        const std::uint8_t* data = nullptr;
        const auto n = nghttp2_session_mem_send(h2_, &data);
        if (n < 0) return Unexpected(failure(n));
        if (n == 0) break;
        out.insert(out.end(), data, data + n);
    }
    return {};
}

bool ClientSession::finished() const {
    return nghttp2_session_want_read(h2_) == 0 && nghttp2_session_want_write(h2_) == 0;
}

}  // namespace dcp::http2
