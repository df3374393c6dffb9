/* stub */ typedef int rv_stub_t;
