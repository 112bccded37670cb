package bench

import "syscall"

// sysProcAttr makes a child server die with the bench process, so an
// interrupted run leaves no server behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
