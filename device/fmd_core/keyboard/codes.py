"""Linux input key codes as plain integers (``linux/input-event-codes.h``).

The portable core cannot import python-evdev (SCANNERS-AND-HARDWARE.md 1.2: the adapter only
yields ``(code, value, timestamp)``), so the codes it needs are written out here. Event types and
the two ``EV_SYN`` codes that framing looks at are here too.
"""

EV_SYN = 0
EV_KEY = 1
EV_MSC = 4
SYN_REPORT = 0
SYN_DROPPED = 3

# key values (SCANNERS-AND-HARDWARE.md 1.1): 1 down, 0 up, 2 autorepeat
UP = 0
DOWN = 1
REPEAT = 2

KEY_ESC = 1
KEY_1 = 2
KEY_2 = 3
KEY_3 = 4
KEY_4 = 5
KEY_5 = 6
KEY_6 = 7
KEY_7 = 8
KEY_8 = 9
KEY_9 = 10
KEY_0 = 11
KEY_MINUS = 12
KEY_EQUAL = 13
KEY_BACKSPACE = 14
KEY_TAB = 15
KEY_Q = 16
KEY_W = 17
KEY_E = 18
KEY_R = 19
KEY_T = 20
KEY_Y = 21
KEY_U = 22
KEY_I = 23
KEY_O = 24
KEY_P = 25
KEY_LEFTBRACE = 26
KEY_RIGHTBRACE = 27
KEY_ENTER = 28
KEY_LEFTCTRL = 29
KEY_A = 30
KEY_S = 31
KEY_D = 32
KEY_F = 33
KEY_G = 34
KEY_H = 35
KEY_J = 36
KEY_K = 37
KEY_L = 38
KEY_SEMICOLON = 39
KEY_APOSTROPHE = 40
KEY_GRAVE = 41
KEY_LEFTSHIFT = 42
KEY_BACKSLASH = 43
KEY_Z = 44
KEY_X = 45
KEY_C = 46
KEY_V = 47
KEY_B = 48
KEY_N = 49
KEY_M = 50
KEY_COMMA = 51
KEY_DOT = 52
KEY_SLASH = 53
KEY_RIGHTSHIFT = 54
KEY_KPASTERISK = 55
KEY_LEFTALT = 56
KEY_SPACE = 57
KEY_CAPSLOCK = 58
KEY_F1 = 59
KEY_NUMLOCK = 69
KEY_KP7 = 71
KEY_KP8 = 72
KEY_KP9 = 73
KEY_KPMINUS = 74
KEY_KP4 = 75
KEY_KP5 = 76
KEY_KP6 = 77
KEY_KPPLUS = 78
KEY_KP1 = 79
KEY_KP2 = 80
KEY_KP3 = 81
KEY_KP0 = 82
KEY_KPDOT = 83
KEY_102ND = 86
KEY_KPENTER = 96
KEY_RIGHTCTRL = 97
KEY_KPSLASH = 98
KEY_RIGHTALT = 100
KEY_DOWN = 108
KEY_LEFTMETA = 125
KEY_RIGHTMETA = 126

# the keys whose characters the layout tables give (main block, ISO key, space)
PRINTABLE_KEYS = (
    tuple(range(KEY_1, KEY_EQUAL + 1))
    + tuple(range(KEY_Q, KEY_RIGHTBRACE + 1))
    + tuple(range(KEY_A, KEY_GRAVE + 1))
    + tuple(range(KEY_BACKSLASH, KEY_SLASH + 1))
    + (KEY_102ND, KEY_SPACE)
)

# keypad keys decoded at key-code level whatever the NumLock state (SCANNERS-AND-HARDWARE.md 1.3)
KEYPAD = {
    KEY_KP0: "0",
    KEY_KP1: "1",
    KEY_KP2: "2",
    KEY_KP3: "3",
    KEY_KP4: "4",
    KEY_KP5: "5",
    KEY_KP6: "6",
    KEY_KP7: "7",
    KEY_KP8: "8",
    KEY_KP9: "9",
    KEY_KPMINUS: "-",
    KEY_KPPLUS: "+",
    KEY_KPASTERISK: "*",
    KEY_KPSLASH: "/",
}
KEYPAD_DIGITS = (KEY_KP0, KEY_KP1, KEY_KP2, KEY_KP3, KEY_KP4, KEY_KP5, KEY_KP6, KEY_KP7, KEY_KP8, KEY_KP9)
