//! When a timed write left this host, by the kernel's own clock (Linux `SO_TIMESTAMPING`).
//!
//! A write's return is a poor witness of when its bytes left: on loopback the kernel delivers
//! the segment to the receiving socket and wakes the reader inside the writer's system call, so
//! the call returns only after the registry simulator's wake-up (tens of microseconds on a
//! virtual machine). The kernel's software transmit timestamp is taken as the segment is handed
//! to the network device (`skb_tx_timestamp`, loopback's included), before any of that.
//!
//! Timestamps are asked for only around one write: a [`TransmitStamps::arm`] before it, then
//! [`TransmitStamps::take`] reads the error queue dry, returns the last stamp and turns them off
//! again, so nothing accumulates in the socket's buffers.

use std::time::{Duration, SystemTime};

/// The transmit timestamps of one TCP socket.
pub(crate) struct TransmitStamps {
    #[cfg(target_os = "linux")]
    fd: std::os::fd::RawFd,
}

#[cfg(target_os = "linux")]
mod linux {
    use super::*;

    /// `SOF_TIMESTAMPING_*` flags (linux/net_tstamp.h).
    const TX_SOFTWARE: u32 = 1 << 1;
    const SOFTWARE: u32 = 1 << 4;
    const OPT_TSONLY: u32 = 1 << 11;

    impl TransmitStamps {
        /// The socket whose writes to stamp; it must outlive this value.
        pub(crate) fn new(fd: std::os::fd::RawFd) -> TransmitStamps {
            TransmitStamps { fd }
        }

        fn set(&self, flags: u32) -> std::io::Result<()> {
            let flags = flags as libc::c_int;
            // SAFETY: a valid socket descriptor (owned by the session's stream, which outlives
            // this value) and a pointer to a live c_int of the size given.
            let r = unsafe {
                libc::setsockopt(
                    self.fd,
                    libc::SOL_SOCKET,
                    libc::SO_TIMESTAMPING,
                    (&flags as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                )
            };
            if r == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        }

        /// Asks for a software transmit timestamp of every write from now on.
        pub(crate) fn arm(&self) -> bool {
            self.drain();
            self.set(TX_SOFTWARE | SOFTWARE | OPT_TSONLY).is_ok()
        }

        /// The last transmit timestamp queued since [`TransmitStamps::arm`] (none when the
        /// kernel gave none), with timestamps turned off again.
        pub(crate) fn take(&self) -> Option<SystemTime> {
            let last = self.drain();
            let _ = self.set(0);
            last
        }

        /// Reads the error queue dry; the last software timestamp in it.
        fn drain(&self) -> Option<SystemTime> {
            let mut last = None;
            loop {
                let mut data = [0u8; 64];
                let mut control = [0u64; 64]; // aligned for cmsghdr
                let mut iov = libc::iovec {
                    iov_base: data.as_mut_ptr().cast(),
                    iov_len: data.len(),
                };
                // SAFETY: zeroed msghdr is a valid empty header; the fields set point to live
                // buffers of the lengths given, for the duration of the call.
                let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
                msg.msg_iov = &mut iov;
                msg.msg_iovlen = 1;
                msg.msg_control = control.as_mut_ptr().cast();
                msg.msg_controllen = std::mem::size_of_val(&control) as _;
                // SAFETY: as above; MSG_DONTWAIT so the call never blocks.
                let n = unsafe {
                    libc::recvmsg(self.fd, &mut msg, libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT)
                };
                if n < 0 {
                    return last;
                }
                // SAFETY: the kernel filled `control` with `msg_controllen` bytes of cmsghdrs;
                // the CMSG_* functions walk them within that length.
                unsafe {
                    let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
                    while !cmsg.is_null() {
                        let c = &*cmsg;
                        if c.cmsg_level == libc::SOL_SOCKET && c.cmsg_type == libc::SCM_TIMESTAMPING
                        {
                            // struct scm_timestamping { struct timespec ts[3]; }: [0] is the
                            // software stamp, CLOCK_REALTIME.
                            let ts = std::ptr::read_unaligned(
                                libc::CMSG_DATA(cmsg).cast::<libc::timespec>(),
                            );
                            if ts.tv_sec > 0 {
                                last = Some(
                                    SystemTime::UNIX_EPOCH
                                        + Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32),
                                );
                            }
                        }
                        cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
                    }
                }
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
impl TransmitStamps {
    pub(crate) fn arm(&self) -> bool {
        false
    }

    pub(crate) fn take(&self) -> Option<SystemTime> {
        None
    }
}
