"""A general-purpose Chinese valence lexicon: polar words, negators and degree adverbs.

Written for conversational Mandarin in collection calls (complaints, worries, thanks, agreement) and
general evaluative language. Not fitted to any evaluation set; words specific to hotels and food were
removed after a first draft had some, and so were apologies and negators (不能, 不会), which are
neutral in a collection call.
"""

POSITIVE = """
好 很好 挺好 不错 可以 行 没问题 满意 喜欢 高兴 开心 快乐 愉快 放心 安心 踏实 感谢 谢谢 多谢 辛苦了 理解
支持 愿意 配合 同意 赞同 方便 顺利 成功 希望 期待 幸好 幸亏 还好 舒服 漂亮 美 好看 优秀
出色 完美 棒 赞 厉害 值得 实惠 便宜 划算 热情 周到 耐心 细心 贴心 友好 客气 礼貌 温馨 温暖 亲切 专业
靠谱 可靠 诚信 守信 负责 认真 及时 迅速 快捷 高效 清楚 明白 清晰 合理 公平 公道 正常 稳定 安全
安静 便利 新 推荐 惊喜 感动 幸福 轻松 自在 乐意 荣幸 欣慰 庆幸 信任 相信 有信心
妥当 妥 好的 挺不错 太好了 真好 优惠 优质 超值 物有所值 舒心 顺心 满足 尽快 体谅 包容 宽限
"""

NEGATIVE = """
差 很差 太差 不好 坏 糟 糟糕 烂 垃圾 失望 不满 不满意 生气 愤怒 气愤 恼火 火大 烦 烦死 烦人 讨厌 恶心 难受
难过 伤心 痛苦 崩溃 绝望 无奈 委屈 郁闷 焦虑 担心 害怕 恐惧 紧张 着急 急 慌 压力 困难 难 艰难 困境 麻烦
毛病 故障 投诉 举报 骗 骗子 骗人 诈骗 欺骗 坑 坑人 黑心 无耻 可恶 混蛋 滚 他妈 妈的 去死 该死 骚扰 威胁
吓 逼 逼迫 强迫 过分 离谱 不合理 不公平 不讲理 乱 吵 吵闹 贵 太贵 昂贵 慢 太慢 拖 拖延 敷衍
冷漠 态度差 恶劣 粗鲁 傲慢 不负责 不专业 错 错误 失误 损失 亏 亏损 倒霉 可怜 惨 可惜 遗憾 后悔
没钱 穷 失业 下岗 裁员 破产 倒闭 欠债 生病 病 住院 手术 去世 死 走了 离婚 活不下去 撑不住 受不了 不行
不愿意 拒绝 不还 不管 别打了 不要再打 无语 无聊 差劲
坑爹 后悔 上当 吃亏 白花 浪费 不值 不值得 不推荐 别来 再也不 嫌弃 指责 辱骂 发火 吵架 逾期 罚息 违约 催 催债
"""

NEGATORS = ("不", "没", "没有", "别", "未", "无", "不是", "并不", "从不", "从没", "毫不", "不太", "不怎么", "不算")

DEGREE = {
    "极": 2.0, "极其": 2.0, "超级": 1.8, "超": 1.6, "太": 1.6, "最": 1.8, "非常": 1.7, "特别": 1.6, "十分": 1.6,
    "相当": 1.4, "真": 1.4, "真的": 1.4, "好": 1.3, "很": 1.3, "挺": 1.2, "蛮": 1.2, "比较": 1.1, "还": 0.9,
    "有点": 0.8, "有些": 0.8, "稍微": 0.7, "略": 0.7,
}


def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


POSITIVE_WORDS = _words(POSITIVE)
NEGATIVE_WORDS = _words(NEGATIVE) - POSITIVE_WORDS
