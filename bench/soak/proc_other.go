//go:build !linux

package soak

import "errors"

var errLinuxOnly = errors.New("the soak suite reads /proc and sets rlimits: it runs on Linux only")

func rss(int) (int64, error)             { return 0, errLinuxOnly }
func openFiles(int) int                  { return -1 }
func raiseNoFile(uint64) (uint64, error) { return 0, errLinuxOnly }
func setNoFile(int, uint64) error        { return errLinuxOnly }

func mountTmpfs(string, int) (func(), error) { return nil, errLinuxOnly }
