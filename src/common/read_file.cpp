#include "common/read_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace dcp {

Result<std::string, std::string> read_whole_file(const std::string& path, std::size_t max) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Unexpected(std::string(std::strerror(errno)));
    std::string out;
    char buf[65536];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        out.append(buf, static_cast<std::size_t>(in.gcount()));
        if (out.size() > max) {
            std::string why = "larger than ";
            why += std::to_string(max);
            why += " bytes";
            return Unexpected(std::move(why));
        }
    }
    if (in.bad()) return Unexpected(std::string("read error"));
    return out;
}

}  // namespace dcp
