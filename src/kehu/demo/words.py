"""Vocabulary for demo names: surnames, given-name characters, company name parts."""

from __future__ import annotations

# The most common surnames, most frequent first (weights fall off down the list).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭宁欣怡婷雪琳"
    "晨阳博文子涵思雨梓轩佳琪嘉欣晓峰海波志成建国春梅国庆立新永刚雅倩诗慧梦瑶天翔一鸣昊然家豪瑞泽"
)
TITLES = (
    "总经理", "副总经理", "采购经理", "采购专员", "财务总监", "技术总监", "运营经理", "行政主管",
    "市场总监", "项目经理", "董事长", "IT 主管",
)
# Two characters are drawn from this list to make a brand (字号) such as 恒达 or 华信.
BRAND_CHARS = (
    "恒达华信通远鑫盛泰和安新联创宏博瑞中天汇金隆兴永嘉益德利嘉丰源海成荣昌升明诚卓越东方美亚正"
    "佳宝祥合辰星启航云智鼎峰盈凯腾飞蓝图万象同舟力拓睿思优品"
)
INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "manufacturing": ("机械制造", "精密仪器", "电子", "模具", "五金制品", "新材料"),
    "retail": ("商贸", "贸易", "百货", "电子商务", "供应链管理"),
    "software": ("科技", "信息技术", "软件", "网络科技", "数据科技", "智能科技"),
    "finance": ("投资管理", "融资租赁", "资产管理", "商业保理"),
    "education": ("教育科技", "培训学校", "文化传播"),
    "healthcare": ("医疗器械", "生物科技", "医药", "健康管理"),
    "real_estate": ("建筑工程", "装饰工程", "置业", "物业管理"),
    "logistics": ("物流", "国际货运代理", "运输", "仓储服务"),
    "hospitality": ("餐饮管理", "酒店管理", "食品"),
    "agriculture": ("农业科技", "生态农业", "茶业", "水产"),
    "energy": ("新能源", "化工", "能源科技", "环保科技"),
    "government": ("公共服务中心", "职业技术学院", "人民医院"),
    "services": ("咨询", "企业管理咨询", "人力资源", "广告", "会计师事务所"),
    "other": ("实业", "发展", "集团"),
}
# Legal-form suffixes with relative weights; government bodies get none.
SUFFIXES = (("有限公司", 70), ("股份有限公司", 12), ("有限责任公司", 12), ("集团有限公司", 6))
STREETS = ("人民路", "解放路", "中山路", "建设路", "和平路", "长江路", "科技路", "新华路", "滨江大道",
           "世纪大道", "创业路", "学府路", "文化路", "工业园路")
EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "outlook.com")
TAGS = (("重点客户", "#dc2626"), ("渠道商", "#2563eb"), ("老客户", "#16a34a"),
        ("潜在大客户", "#9333ea"), ("需回访", "#ea580c"), ("已签约", "#0891b2"),
        ("政府项目", "#64748b"), ("VIP", "#ca8a04"))
# Number segments (号段) that phonenumbers accepts as Chinese mobile numbers.
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "147", "150", "151",
    "152", "153", "155", "156", "157", "158", "159", "166", "173", "176", "177", "178", "180",
    "181", "182", "183", "184", "185", "186", "187", "188", "189", "198", "199",
)
