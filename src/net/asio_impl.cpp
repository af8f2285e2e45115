// Asio's compiled part, built once for the whole program (ASIO_SEPARATE_COMPILATION).
#include <asio/impl/src.hpp>
